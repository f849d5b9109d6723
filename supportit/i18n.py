"""Languages: French by default, English available, chosen per person."""

from __future__ import annotations

from flask import Flask, has_request_context, request, session
from flask_babel import Babel, get_locale
from flask_login import current_user

LANGUAGES = ("fr", "en")
DEFAULT_LANGUAGE = "fr"

babel = Babel()


def select_locale() -> str:
    """The language picked in this session, else the user's own, else the browser's, else French.

    Outside a request (the CLI, the scheduler) it is French, the team's language.
    """
    if not has_request_context():
        return DEFAULT_LANGUAGE
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return chosen
    if current_user and current_user.is_authenticated and current_user.language in LANGUAGES:
        return current_user.language
    return request.accept_languages.best_match(LANGUAGES, default=DEFAULT_LANGUAGE)


def current_language() -> str:
    """The language of this request's pages: "fr" or "en" (what select_locale chose)."""
    return str(get_locale())


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)
