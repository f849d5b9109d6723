"""What every template can use: labels, local times, the current language."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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
    local = value.astimezone(_zoneinfo(current_timezone()))
    return _datetime_formatter(current_locale(), format)(local)


@lru_cache(maxsize=8)
def _zoneinfo(zone: tzinfo) -> tzinfo:
    """The standard library's zone of Flask-Babel's pytz zone: the same offsets, found in a
    quarter of the time (pytz searches its transitions at each conversion)."""
    try:
        return ZoneInfo(str(zone))
    except (ValueError, ZoneInfoNotFoundError):
        return zone


_STANDARD_FORMATS = ("full", "long", "medium", "short")


@lru_cache(maxsize=32)
def _datetime_formatter(locale: Locale, format: str) -> Callable[[datetime], str]:
    """Babel's format_datetime for one locale and format, its patterns compiled once."""
    if format not in _STANDARD_FORMATS:
        pattern = dates.parse_pattern(format)
        return _compiled(pattern, locale) or (lambda local: pattern.apply(local, locale))
    # The locale's way of joining a date and a time ("{1}, {0}", "{1} 'at' {0}"), as Babel
    # joins them: quotes dropped, {0} the time, {1} the date.
    joined = dates.get_datetime_format(format, locale=locale).replace("'", "")
    time_pattern = dates.parse_pattern(dates.get_time_format(format, locale=locale))
    date_pattern = dates.parse_pattern(dates.get_date_format(format, locale=locale))
    write_date = _compiled(date_pattern, locale) or (
        lambda local: date_pattern.apply(local, locale)
    )
    write_time = _compiled(time_pattern, locale) or (
        # The reference date picks the zone's summer or winter name in the "full" format.
        lambda local: time_pattern.apply(local.timetz(), locale, reference_date=local.date())
    )

    def apply(local: datetime) -> str:
        return joined.replace("{0}", write_time(local)).replace("{1}", write_date(local))

    return apply


def _compiled(pattern: dates.DateTimePattern, locale: Locale) -> Callable[[datetime], str] | None:
    """A date or time pattern as one `str.format`, for the fields the pages show (day, month,
    year, weekday, hours, minutes, seconds, am/pm), written as Babel writes them; None for a
    pattern with another field (a zone's name), which Babel then writes.

    Babel interprets the pattern field by field at each call (about 10 µs); a conversation
    shows 50 dates, a queue page 50. Numbers are read by the format itself ("{0.day:02d}");
    names and computed numbers are passed after the instant.
    """
    literal: list[str] = []
    computed: list[Callable[[datetime], str]] = []
    for kind, value in dates.tokenize_pattern(pattern.pattern):
        if kind == "chars":
            literal.append(str(value).replace("{", "{{").replace("}", "}}"))
            continue
        char, num = value  # type: ignore[misc]
        attribute = _ATTRIBUTES.get(char)
        if char in "ML" and num <= 2:
            attribute = "month"
        elif char == "y" and num != 2:
            attribute = "year"
        if attribute is not None:  # Babel's '%0*d': at least `num` digits
            literal.append("{0." + attribute + ":0" + str(num) + "d}")
            continue
        field = _field(char, num, locale)
        if field is None:
            return None
        computed.append(field)
        literal.append("{" + str(len(computed)) + "}")
    template = "".join(literal)
    if not computed:
        return template.format
    return lambda local: template.format(local, *[field(local) for field in computed])


_ATTRIBUTES = {"d": "day", "H": "hour", "m": "minute", "s": "second"}


def _field(char: str, num: int, locale: Locale) -> Callable[[datetime], str] | None:
    """A field that is not one of the instant's numbers, as babel.dates.DateTimeFormat
    writes it; None for the fields the pages do not use."""
    padded = "{:0" + str(num) + "d}"
    if char == "y":  # "yy": the last two digits
        return lambda local: padded.format(local.year)[-2:]
    if char == "h":
        return lambda local: padded.format(local.hour % 12 or 12)
    if char == "K":
        return lambda local: padded.format(local.hour % 12)
    if char == "k":
        return lambda local: padded.format(local.hour or 24)
    if char in "ML":
        width = {3: "abbreviated", 4: "wide", 5: "narrow"}[num]
        context = "format" if char == "M" else "stand-alone"
        months = dates.get_month_names(width, context, locale)
        return lambda local: months[local.month]
    if char == "E":
        width = {1: "abbreviated", 2: "abbreviated", 3: "abbreviated", 4: "wide", 5: "narrow"}
        days = dates.get_day_names(width.get(num, "short"), "format", locale)
        return lambda local: days[local.weekday()]
    if char == "a":
        am, pm = (_period(period, num, locale) for period in ("am", "pm"))
        return lambda local: pm if local.hour >= 12 else am
    return None


def _period(period: str, num: int, locale: Locale) -> str:
    """Babel's name of the morning or the afternoon: the first width that has one."""
    for width in ({3: "abbreviated", 4: "wide", 5: "narrow"}[max(3, num)], "wide", "narrow"):
        names = dates.get_period_names(context="format", width=width, locale=locale)
        if period in names:
            return names[period]
    return dates.get_period_names(context="format", width="abbreviated", locale=locale)[period]


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
