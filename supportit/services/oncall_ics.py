"""The on-call schedule as iCalendar: engineers subscribe to it; planners hand back swaps.

Export writes one event per shift. Import reads events naming a rotation and an agent: where
that agent is not already the one on call, it becomes an override. Importing an export back
therefore changes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import icalendar

from supportit.i18n import lazy_gettext as _l
from supportit.services import oncall
from supportit.services.errors import ServiceError

ROTATION_PROPERTY = "X-SUPPORTIT-ROTATION"


def export(start: datetime, *, weeks: int = 8) -> bytes:
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//FLOA Pay//SupportIT on-call//FR")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", "Astreinte FLOA Pay Support IT")
    end = start + timedelta(weeks=weeks)
    stamp = datetime.now(UTC)
    for rotation in oncall.rotations():
        for shift in oncall.shifts(rotation, start, end):
            if shift.user is None:
                continue
            event = icalendar.Event()
            kind = "override" if shift.override else "shift"
            event.add("uid", f"{kind}-{rotation.id}-{shift.starts_at:%Y%m%dT%H%M%SZ}@supportit")
            event.add("dtstamp", stamp)
            event.add("dtstart", shift.starts_at.astimezone(UTC))
            event.add("dtend", shift.ends_at.astimezone(UTC))
            event.add(
                "summary", f"Astreinte {rotation.name} (L{rotation.layer}): {shift.user.name}"
            )
            event.add("attendee", f"mailto:{shift.user.email}")
            event.add(ROTATION_PROPERTY, rotation.name)
            event.add("categories", ["on-call", kind])
            calendar.add_component(event)
    return calendar.to_ical()


def import_overrides(data: bytes) -> int:
    """Overrides for the events whose agent is not the one scheduled; returns how many."""
    try:
        calendar = icalendar.Calendar.from_ical(data)
    except ValueError as error:
        raise ServiceError(_l("This is not an iCalendar file (%(error)s).", error=error)) from None
    planned = []
    for event in calendar.walk("VEVENT"):
        name = str(event.get(ROTATION_PROPERTY, "")).strip()
        attendee = str(event.get("attendee", "")).removeprefix("mailto:").strip()
        if not name or not attendee:
            continue
        starts_at, ends_at = _instant(event, "dtstart"), _instant(event, "dtend")
        rotation = oncall.rotation_named(name)
        current = oncall.shift_at(rotation, starts_at)
        already = current.user is not None and current.user.email.lower() == attendee.lower()
        if already and current.starts_at <= starts_at and ends_at <= current.ends_at:
            continue
        planned.append((rotation, attendee, starts_at, ends_at))
    for rotation, attendee, starts_at, ends_at in planned:
        oncall.add_override(rotation, attendee, starts_at, ends_at, reason="iCalendar import")
    return len(planned)


def _instant(event: icalendar.Event, name: str) -> datetime:
    value = event.get(name)
    moment = value.dt if value is not None else None
    if not isinstance(moment, datetime) or moment.tzinfo is None:
        raise ServiceError(
            _l(
                "Event %(uid)s: %(name)s must be a date and time with a time zone.",
                uid=str(event.get("uid", "?")),
                name=name.upper(),
            )
        )
    return moment.astimezone(UTC)
