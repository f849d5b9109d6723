"""What every template can use: labels, local times, the current language."""

from __future__ import annotations

from datetime import datetime

from flask import Flask
from flask_babel import format_datetime, get_locale

from supportit import labels
from supportit.i18n import LANGUAGES
from supportit.services.text import safe


def localtime(value: datetime | None, format: str = "medium") -> str:
    """A UTC instant in the configured time zone (Europe/Paris), in the reader's language."""
    if value is None:
        return ""
    return format_datetime(value, format)


def init_app(app: Flask) -> None:
    app.jinja_env.filters["localtime"] = localtime
    app.jinja_env.filters["safe_html"] = safe
    app.jinja_env.globals.update(
        labels=labels,
        languages=LANGUAGES,
        current_locale=lambda: str(get_locale()),
    )
