"""What every template can use: labels, local times, the current language."""

from __future__ import annotations

from datetime import datetime

from flask import Flask
from flask_babel import format_datetime, get_locale
from flask_login import current_user

from supportit import labels
from supportit.i18n import LANGUAGES
from supportit.services.text import safe


def localtime(value: datetime | None, format: str = "medium") -> str:
    """A UTC instant in the configured time zone (Europe/Paris), in the reader's language."""
    if value is None:
        return ""
    return format_datetime(value, format)


def _staff_alerts() -> dict[str, object]:
    """Operational alerts every agent page shows: today, mailboxes that fail to be fetched."""
    if not (current_user and current_user.is_authenticated and current_user.is_staff):
        return {}
    from supportit.intake.imap import failing_mailboxes

    return {"failing_mailboxes": failing_mailboxes()}


def init_app(app: Flask) -> None:
    app.context_processor(_staff_alerts)
    app.jinja_env.filters["localtime"] = localtime
    app.jinja_env.filters["safe_html"] = safe
    app.jinja_env.globals.update(
        labels=labels,
        languages=LANGUAGES,
        current_locale=lambda: str(get_locale()),
    )
