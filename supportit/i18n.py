"""Languages: French by default, English available, chosen per person."""

from __future__ import annotations

from typing import Any

from babel import Locale
from babel.support import NullTranslations
from flask import Flask, g, has_request_context, request, session
from flask_babel import Babel, LazyString, get_locale, get_timezone, get_translations
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
    return str(current_locale())


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)
    # The templates' _() and ngettext() through the remembered catalogue (see translations()).
    app.jinja_env.install_gettext_callables(
        gettext=lambda string: translations().ugettext(string),
        ngettext=lambda singular, plural, n: translations().ungettext(singular, plural, n),
        newstyle=True,
        pgettext=lambda context, string: translations().upgettext(context, string),
        npgettext=lambda context, singular, plural, n: translations().unpgettext(
            context, singular, plural, n
        ),
    )


# Flask-Babel finds the catalogue anew at each gettext: the locale, the domain and the cache
# are each reached through `g` (about 10 µs, where the lookup itself takes 0.2). A queue page
# translates some 300 strings, labels included, and the mail intake a few dozen per mail, so
# the catalogue is remembered beside the locale it was found for, in Flask-Babel's own
# per-context namespace. Its force_locale() and refresh() replace that locale object, so a
# forced language, and the return from it, find their own catalogue again.
_MEMO = "supportit_translations"


def _remembered() -> dict[str, Any]:
    """Flask-Babel's namespace for the current context, as a dict ({} when it has none yet)."""
    try:
        namespace = g.get("_flask_babel")
    except RuntimeError:  # no application context
        return {}
    return namespace.__dict__ if namespace is not None else {}


def translations() -> NullTranslations:
    """The catalogue of the current language (Flask-Babel's get_translations, remembered)."""
    remembered = _remembered()
    memo = remembered.get(_MEMO)
    if memo is not None and memo[0] is remembered.get("babel_locale"):
        return memo[1]
    found = get_translations()
    remembered = _remembered()  # made by get_translations, if there is a context
    if "babel_locale" in remembered:
        remembered[_MEMO] = (remembered["babel_locale"], found)
    return found


def current_locale() -> Locale | None:
    """Flask-Babel's get_locale, without its lookups once the context has chosen."""
    return _remembered().get("babel_locale") or get_locale()


def current_timezone() -> Any:
    """Flask-Babel's get_timezone, without its lookups once the context has one."""
    return _remembered().get("babel_tzinfo") or get_timezone()


def gettext(string: str, **variables: Any) -> str:
    """Flask-Babel's gettext, through the remembered catalogue."""
    translated = translations().ugettext(string)
    return translated % variables if variables else translated


def ngettext(singular: str, plural: str, num: int, **variables: Any) -> str:
    """Flask-Babel's ngettext, through the remembered catalogue; `num` is a variable too."""
    variables.setdefault("num", num)
    return translations().ungettext(singular, plural, num) % variables


def pgettext(context: str, string: str, **variables: Any) -> str:
    """Flask-Babel's pgettext (a word that reads differently by context), remembered."""
    translated = translations().upgettext(context, string)
    return translated % variables if variables else translated


def lazy_gettext(string: str, **variables: Any) -> LazyString:
    """gettext when the string is used, in the language of that moment (labels, forms)."""
    return LazyString(gettext, string, **variables)


def lazy_ngettext(singular: str, plural: str, num: int, **variables: Any) -> LazyString:
    """ngettext when the string is used."""
    return LazyString(ngettext, singular, plural, num, **variables)


def lazy_pgettext(context: str, string: str, **variables: Any) -> LazyString:
    """pgettext when the string is used."""
    return LazyString(pgettext, context, string, **variables)
