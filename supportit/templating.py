"""What every template can use: labels, local times, the current language."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

from babel import Locale, dates
from flask import Flask
from flask_babel import format_date, format_decimal
from flask_login import current_user
from markupsafe import Markup, escape

from supportit import labels
from supportit.db import utcnow
from supportit.i18n import LANGUAGES, current_locale, current_timezone
from supportit.i18n import gettext as _
from supportit.models import Category, Priority, Status, Ticket
from supportit.services.text import safe


def localtime(value: datetime | None, format: str = "medium") -> str:
    """A UTC instant in the configured time zone (Europe/Paris), in the reader's language.

    What Flask-Babel's format_datetime writes, without looking the locale's patterns up again
    at each call: a 50-message conversation shows 50 of these.
    """
    if value is None:
        return ""
    if value.tzinfo is None:  # as Babel reads a naive instant: UTC
        value = value.replace(tzinfo=UTC)
    return _datetime_formatter(current_locale(), format)(value.astimezone(current_timezone()))


_STANDARD_FORMATS = ("full", "long", "medium", "short")


@lru_cache(maxsize=32)
def _datetime_formatter(locale: Locale, format: str) -> Callable[[datetime], str]:
    """Babel's format_datetime for one locale and format, its patterns parsed once."""
    if format not in _STANDARD_FORMATS:
        pattern = dates.parse_pattern(format)
        return lambda local: pattern.apply(local, locale)
    # The locale's way of joining a date and a time ("{1}, {0}", "{1} 'at' {0}"), as Babel
    # joins them: quotes dropped, {0} the time, {1} the date.
    joined = dates.get_datetime_format(format, locale=locale).replace("'", "")
    time_pattern = dates.parse_pattern(dates.get_time_format(format, locale=locale))
    date_pattern = dates.parse_pattern(dates.get_date_format(format, locale=locale))

    def apply(local: datetime) -> str:
        # The reference date picks the zone's summer or winter name in the "full" format.
        written_time = time_pattern.apply(local.timetz(), locale, reference_date=local.date())
        return joined.replace("{0}", written_time).replace("{1}", date_pattern.apply(local, locale))

    return apply


def localdate(value: date | None, format: str = "medium") -> str:
    """A calendar day in the reader's language ("lundi 25 décembre 2026")."""
    return "" if value is None else format_date(value, format)


def duration(value: timedelta) -> str:
    """A business duration as agents read it: "2 h 05", "45 min", "3 d 4 h"."""
    minutes = int(abs(value).total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    if hours >= 24:
        days, hours = divmod(hours, 24)
        return _("%(d)d d %(h)d h", d=days, h=hours)
    if hours:
        return _("%(h)d h %(m)02d", h=hours, m=minutes)
    return _("%(m)d min", m=minutes)


def work_time(minutes: int) -> str:
    """Time spent working, in hours and minutes however long: "26 h 05", "45 min"."""
    hours, minutes = divmod(int(minutes), 60)
    return _("%(h)d h %(m)02d", h=hours, m=minutes) if hours else _("%(m)d min", m=minutes)


def sla_left(ticket: Ticket) -> tuple[str, str] | None:
    """(text, badge class) of the time left on a ticket's nearest SLA deadline, for the queue."""
    if ticket.sla_due_at is None:
        return None
    from supportit.services import sla

    now = utcnow()
    if ticket.sla_due_at <= now:
        late = now - ticket.sla_due_at
        return _("late %(d)s", d=duration(late)), "text-bg-danger"
    left = sla.team_calendar().between(now, ticket.sla_due_at)
    if left <= timedelta(0):  # a wall-clock target (RUN P1) running outside business hours
        left = ticket.sla_due_at - now
    css = "text-bg-warning" if left <= timedelta(hours=1) else "text-bg-light border"
    return duration(left), css


# The ticket badges, written in Python: a list page shows three per row, and as Jinja macros
# they cost a queue page about a millisecond.
def status_badge(status: Status) -> Markup:
    return Markup(
        f'<span class="badge rounded-pill {labels.STATUS_BADGES[status]}">'
        f"{escape(labels.STATUS_LABELS[status])}</span>"
    )


def priority_badge(priority: Priority) -> Markup:
    return Markup(
        f'<span class="badge {labels.PRIORITY_BADGES[priority]}" '
        f'title="{escape(labels.PRIORITY_LABELS[priority])}">{priority.value}</span>'
    )


def category_badge(category: Category, short: bool = False) -> Markup:
    shown = (labels.CATEGORY_SHORT_LABELS if short else labels.CATEGORY_LABELS)[category]
    return Markup(
        f'<span class="badge cat-badge cat-{category.value}" '
        f'title="{escape(labels.CATEGORY_LABELS[category])}">{escape(shown)}</span>'
    )


def _incidents_for_merchants() -> dict[str, object]:
    """Merchants see the incidents in progress on FLOA Pay's services on every portal page."""
    if not (current_user and current_user.is_authenticated and current_user.is_merchant):
        return {}
    from supportit.services.monitoring import SERVICES, public_open_incidents

    return {"service_incidents": public_open_incidents(), "service_labels": SERVICES}


def _staff_alerts() -> dict[str, object]:
    """What every agent page shows: alerts nobody acknowledged, mailboxes failing to fetch, and
    the bell's unread notices."""
    if not (current_user and current_user.is_authenticated and current_user.is_staff):
        return {}
    from supportit.services import attention

    shown = attention.for_agent(current_user)
    return {
        "failing_mailboxes": shown.failing_mailboxes,
        "open_alerts": shown.open_alerts,
        "unread_notices": shown.unread_notices,
    }


def explain_paygate_code(code: str | None) -> str:
    """A Paygate `Code` in words, in the reader's language ("erreur · manquant · Amount")."""
    from supportit.i18n import gettext
    from supportit.paygate.codes import explain_code

    explanation = explain_code(code or "")
    return explanation.describe(gettext) if explanation else ""


def paygate_outcome(code: str | None) -> str:
    from supportit.paygate.codes import explain_code

    explanation = explain_code(code or "")
    if explanation is None:
        return "unknown"
    return "failed" if explanation.failed else "pending" if explanation.pending else "ok"


def pretty_json(value: object) -> str:
    """JSON as the merchant wrote it: keys in their order, accents as they are."""
    import json

    return json.dumps(value, ensure_ascii=False, indent=2)


def _kb_insertion(article, language: str, url: str) -> str:  # type: ignore[no-untyped-def]
    from supportit.services import kb

    return kb.insertion_text(article, language, url)


def _rule_labels():  # type: ignore[no-untyped-def]
    from supportit.services.classification import RULE_LABELS

    return RULE_LABELS


def init_app(app: Flask) -> None:
    app.context_processor(_staff_alerts)
    app.context_processor(_incidents_for_merchants)
    app.jinja_env.filters["localtime"] = localtime
    app.jinja_env.filters["work_time"] = work_time
    app.jinja_env.filters["localdate"] = localdate
    app.jinja_env.filters["safe_html"] = safe
    app.jinja_env.filters["duration"] = duration
    app.jinja_env.filters["pretty_json"] = pretty_json
    # Thousands grouped as the reader's language writes them: 1 000 in French, 1,000 in English.
    app.jinja_env.filters["number"] = format_decimal
    app.jinja_env.globals.update(
        labels=labels,
        languages=LANGUAGES,
        current_locale=lambda: str(current_locale()),
        sla_left=sla_left,
        status_badge=status_badge,
        priority_badge=priority_badge,
        category_badge=category_badge,
        explain=explain_paygate_code,
        paygate_outcome=paygate_outcome,
        kb_insertion=_kb_insertion,
        rule_labels=_rule_labels(),
    )
