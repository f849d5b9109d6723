"""The support team's business calendar: when it is open, and business time between instants.

Instants are aware datetimes, stored and returned in UTC; days, opening hours and holidays are
read in the calendar's own zone with `zoneinfo`, so DST changes move nothing by an hour.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cache, cached_property
from types import MappingProxyType
from zoneinfo import ZoneInfo

import holidays
from dateutil.easter import easter
from flask import current_app
from sqlalchemy import select

from supportit.db import db
from supportit.i18n import lazy_gettext as _l
from supportit.models import ClosedDay, User
from supportit.services.errors import ServiceError

# A calendar with no open day in this many days is misconfigured: searches stop there.
SEARCH_DAYS = 800
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class CalendarError(ValueError):
    """An instant or a setting the calendar cannot work with."""


@dataclass(frozen=True)
class BusinessCalendar:
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/Paris"))
    opens: time = time(9, 0)
    closes: time = time(18, 0)
    working_days: frozenset[int] = frozenset(range(5))  # Monday is 0
    holiday_country: str | None = "FR"
    whit_monday_worked: bool = False
    closed_days: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        if self.opens >= self.closes:
            raise CalendarError("opening time must be before closing time")
        if not self.working_days:
            raise CalendarError("at least one working day is needed")

    def holiday(self, day: date) -> str | None:
        """The name of the public or closed day `day` is, if it is one."""
        if day in self.closed_days:
            return "closed"
        if not self.holiday_country:
            return None
        name = public_holidays(self.holiday_country, day.year).get(day)
        if name and self.whit_monday_worked and day == easter(day.year) + timedelta(days=50):
            return None
        return name

    def is_working_day(self, day: date) -> bool:
        return day.weekday() in self.working_days and self.holiday(day) is None

    def is_business_hours(self, instant: datetime) -> bool:
        local = _aware(instant).astimezone(self.zone)
        return self.is_working_day(local.date()) and self.opens <= local.time() < self.closes

    def open_intervals(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Business intervals in UTC, from the one holding `start` (clipped to it) onwards."""
        start = _aware(start).astimezone(UTC)
        day = start.astimezone(self.zone).date()
        for _ in range(SEARCH_DAYS):
            interval = self._business_interval(day)
            if interval is not None and interval[1] > start:
                yield max(interval[0], start), interval[1]
            day += timedelta(days=1)

    def _business_interval(self, day: date) -> tuple[datetime, datetime] | None:
        """The day's opening and closing in UTC, or None on a day off; remembered, because the
        KPIs ask for the same days thousands of times (one calendar serves one request)."""
        cache = self._intervals
        if day not in cache:
            cache[day] = (
                (self._utc(day, self.opens), self._utc(day, self.closes))
                if self.is_working_day(day)
                else None
            )
        return cache[day]

    @cached_property
    def _intervals(self) -> dict[date, tuple[datetime, datetime] | None]:
        return {}

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The instant at which `duration` of business time has elapsed since `start`."""
        if duration <= timedelta(0):
            return _aware(start).astimezone(UTC)
        remaining = duration
        for opening, closing in self.open_intervals(start):
            if closing - opening >= remaining:
                return opening + remaining
            remaining -= closing - opening
        raise CalendarError(f"no business time within {SEARCH_DAYS} days")

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Business time from `start` to `end` (negative when `end` is earlier)."""
        return self._elapsed(_aware(end)) - self._elapsed(_aware(start))

    def _elapsed(self, instant: datetime) -> timedelta:
        """Business time from the start of the first day this calendar was asked about to
        `instant`: the difference of two such figures is the business time between them, in
        two lookups instead of a walk over every day in between (the KPIs ask thousands of
        times per request, over spans of weeks)."""
        instant = instant.astimezone(UTC)
        day = instant.astimezone(self.zone).date()
        total = self._before(day)
        interval = self._business_interval(day)
        if interval is not None and instant > interval[0]:
            total += min(instant, interval[1]) - interval[0]
        return total

    def _before(self, day: date) -> timedelta:
        """Business time from the first day asked about to the start of `day`."""
        before, span = self._days_before, self._span
        if not before:
            before[day] = timedelta(0)
            span[:] = [day, day]
        if day in before:
            return before[day]
        # Extend the table day by day towards `day`, forwards or backwards.
        first, last = span
        while last < day:
            before[last + timedelta(days=1)] = before[last] + self._open_time(last)
            last += timedelta(days=1)
        while first > day:
            first -= timedelta(days=1)
            before[first] = before[first + timedelta(days=1)] - self._open_time(first)
        span[:] = [first, last]
        return before[day]

    def _open_time(self, day: date) -> timedelta:
        interval = self._business_interval(day)
        return timedelta(0) if interval is None else interval[1] - interval[0]

    @cached_property
    def _days_before(self) -> dict[date, timedelta]:
        return {}

    @cached_property
    def _span(self) -> list[date]:
        return []  # the first and last day of _days_before

    def next_opening(self, instant: datetime) -> datetime:
        """`instant` itself during business hours, else when the team is next at work."""
        for opening, _ in self.open_intervals(instant):
            return opening
        raise CalendarError(f"no business time within {SEARCH_DAYS} days")

    def _utc(self, day: date, at: time) -> datetime:
        # Local wall time to UTC; a time inside a DST gap is read as the one after the change.
        return datetime.combine(day, at, tzinfo=self.zone).astimezone(UTC)


def _aware(instant: datetime) -> datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise CalendarError(
            f"{instant.isoformat()} has no UTC offset: give one (Z, +01:00) so it is not ambiguous"
        )
    return instant


def parse_instant(text: str) -> datetime:
    """An ISO 8601 instant with an offset (`Z` accepted); a clear error without one."""
    try:
        instant = datetime.fromisoformat(text.strip())
    except ValueError:
        raise CalendarError(
            f"{text!r} is not an ISO 8601 instant (example: 2027-03-30T07:30:00Z)"
        ) from None
    return _aware(instant).astimezone(UTC)


def local_instant(wall: datetime, zone: ZoneInfo, *, field: str | None = None) -> datetime:
    """A wall-clock time typed by a person, read in `zone`, as a UTC instant.

    A time the DST change skips (02:30 on the last Sunday of March in Paris) is refused rather
    than moved; a time it makes twice (02:30 in October) is the first one, as most tools do.
    """
    local = wall.replace(tzinfo=zone, fold=0)
    instant = local.astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) != wall.replace(tzinfo=None):
        raise ServiceError(
            _l(
                "%(when)s does not exist in %(zone)s (the clocks go forward): choose another time.",
                when=wall.strftime("%Y-%m-%d %H:%M"),
                zone=str(zone),
            ),
            field=field,
        )
    return instant


@cache
def public_holidays(country: str, year: int) -> Mapping[date, str]:
    """A country's public holidays in `year`, by day, named in French. Remembered for the
    process: a calendar is built for each request and each mail filed, and working out a year's
    holidays again each time cost the intake a tenth of a millisecond a mail."""
    return MappingProxyType(dict(holidays.country_holidays(country, years=year, language="fr")))


def from_config(
    config: dict[str, object], closed: frozenset[date] = frozenset()
) -> BusinessCalendar:
    return BusinessCalendar(
        zone=ZoneInfo(str(config["CALENDAR_TIMEZONE"])),
        opens=config["CALENDAR_OPENS"],  # type: ignore[arg-type]
        closes=config["CALENDAR_CLOSES"],  # type: ignore[arg-type]
        working_days=config["CALENDAR_WORKING_DAYS"],  # type: ignore[arg-type]
        holiday_country=config["CALENDAR_HOLIDAYS"],  # type: ignore[arg-type]
        whit_monday_worked=bool(config["CALENDAR_WHIT_MONDAY_WORKED"]),
        closed_days=closed,
    )


def current() -> BusinessCalendar:
    """The team's calendar: the configuration plus the closed days admins added."""
    with db.session.no_autoflush:  # closed days are committed on their own, never pending
        closed = frozenset(db.session.scalars(select(ClosedDay.day)))
    return from_config(current_app.config, closed)


def add_closed_day(day: date, reason: str, actor: User | None) -> ClosedDay:
    """An admin closes a day beyond public holidays; the SLA clocks skip it from now on."""
    if actor is not None and not actor.is_admin:
        raise ServiceError(_l("Only administrators can change the calendar."))
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError(_l("Say why the team is closed that day."), field="reason")
    if db.session.get(ClosedDay, day) is not None:
        raise ServiceError(_l("This day is already closed."), field="day")
    closed = ClosedDay(day=day, reason=reason[:200], created_by=actor)
    db.session.add(closed)
    db.session.commit()
    return closed


def remove_closed_day(day: date, actor: User | None = None) -> bool:
    if actor is not None and not actor.is_admin:
        raise ServiceError(_l("Only administrators can change the calendar."))
    closed = db.session.get(ClosedDay, day)
    if closed is None:
        return False
    db.session.delete(closed)
    db.session.commit()
    return True


def closed_days(year: int) -> list[tuple[date, str]]:
    """The days admins closed in `year` (not public holidays), in order."""
    start, end = date(year, 1, 1), date(year, 12, 31)
    rows = db.session.execute(
        select(ClosedDay.day, ClosedDay.reason)
        .where(ClosedDay.day >= start, ClosedDay.day <= end)
        .order_by(ClosedDay.day)
    )
    return [(day, reason) for day, reason in rows]


def days_off(year: int) -> list[tuple[date, str]]:
    """Public holidays (as configured) and closed days of `year`, in order."""
    team = current()
    days: dict[date, str] = {}
    for day in _days_of(year):
        name = team.holiday(day)
        if name is not None:
            days[day] = name
    for closed in db.session.scalars(select(ClosedDay)):
        if closed.day.year == year:
            days[closed.day] = closed.reason
    return sorted(days.items())


def _days_of(year: int) -> Iterator[date]:
    day = date(year, 1, 1)
    while day.year == year:
        yield day
        day += timedelta(days=1)
