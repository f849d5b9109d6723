"""The business calendar across DST changes, French holidays and the edges of the working day.

Users of on-call tools mostly report time bugs: business hours read in UTC, an hour lost or
gained after a DST change. Each row below is one such instant, given in UTC or with an offset.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from supportit.services import calendar
from supportit.services.calendar import BusinessCalendar, CalendarError, parse_instant

PARIS = BusinessCalendar()


@pytest.mark.parametrize(
    ("instant", "open_", "why"),
    [
        ("2027-03-30T07:30:00Z", True, "Tuesday 09:30 CEST, two days after the spring change"),
        ("2027-03-30T09:30:00+02:00", True, "the same instant with its Paris offset"),
        ("2027-03-29T08:00:00Z", False, "Easter Monday, the day after the spring change"),
        ("2027-03-31T06:59:59Z", False, "08:59:59 CEST: read in UTC it would look like 06:59"),
        ("2027-03-31T07:00:00Z", True, "09:00 CEST: read as CET it would be 08:00, closed"),
        ("2027-03-26T16:59:59Z", True, "Friday 17:59:59 CET"),
        ("2027-03-26T17:00:00Z", False, "Friday 18:00 CET: the interval is half-open"),
        ("2026-11-30T07:59:59Z", False, "Monday 08:59:59 CET"),
        ("2026-11-30T08:00:00Z", True, "Monday 09:00 CET"),
        ("2026-10-23T07:00:00Z", True, "Friday 09:00 CEST, before the autumn change"),
        ("2026-10-26T07:30:00Z", False, "Monday 08:30 CET, after the autumn change"),
        ("2026-10-26T08:00:00Z", True, "Monday 09:00 CET, after the autumn change"),
        ("2026-10-25T10:00:00Z", False, "the Sunday of the autumn change"),
        ("2027-05-06T10:00:00Z", False, "Ascension Thursday"),
        ("2027-05-17T10:00:00Z", False, "Whit Monday, a public holiday by default"),
        ("2026-12-25T10:00:00Z", False, "Christmas"),
        ("2026-07-14T10:00:00Z", False, "Bastille Day"),
        ("2026-11-11T10:00:00Z", False, "Armistice Day, a Wednesday"),
        ("2026-11-28T10:00:00Z", False, "Saturday"),
        ("2026-11-27T23:30:00-05:00", False, "Saturday 05:30 in Paris, given in New York time"),
    ],
)
def test_business_hours(instant: str, open_: bool, why: str) -> None:
    assert PARIS.is_business_hours(parse_instant(instant)) is open_, why


@pytest.mark.parametrize(
    ("start", "hours", "due", "why"),
    [
        ("2026-11-27T17:00:00+01:00", 4, "2026-11-30T12:00:00+01:00", "Friday 17:00 → Monday"),
        ("2026-11-28T10:00:00+01:00", 1, "2026-11-30T10:00:00+01:00", "a Saturday start"),
        ("2026-11-30T09:00:00+01:00", 9, "2026-11-30T18:00:00+01:00", "a whole day"),
        ("2026-11-30T07:00:00+01:00", 0.5, "2026-11-30T09:30:00+01:00", "before opening"),
        ("2027-03-26T17:00:00+01:00", 4, "2027-03-30T12:00:00+02:00", "over DST and Easter"),
        ("2026-10-23T17:00:00+02:00", 2, "2026-10-26T10:00:00+01:00", "over the autumn change"),
        ("2026-12-24T17:00:00+01:00", 2, "2026-12-28T10:00:00+01:00", "over Christmas"),
        ("2027-05-05T17:00:00+02:00", 2, "2027-05-07T10:00:00+02:00", "over Ascension"),
        ("2026-11-27T16:00:00Z", 4, "2026-11-30T12:00:00+01:00", "the same, started in UTC"),
    ],
)
def test_adding_business_hours(start: str, hours: float, due: str, why: str) -> None:
    result = PARIS.add(parse_instant(start), timedelta(hours=hours))
    assert result == parse_instant(due), why
    assert result.utcoffset() == timedelta(0)  # stored and returned in UTC
    assert PARIS.between(parse_instant(start), result) == timedelta(hours=hours), why


def test_business_time_between_is_signed_and_skips_nights() -> None:
    friday = parse_instant("2026-11-27T17:00:00+01:00")
    monday = parse_instant("2026-11-30T12:00:00+01:00")
    assert PARIS.between(friday, monday) == timedelta(hours=4)
    assert PARIS.between(monday, friday) == -timedelta(hours=4)


def _walked(calendar_: BusinessCalendar, start: datetime, end: datetime) -> timedelta:
    """Business time from start to end the slow way: over every open interval in between."""
    total = timedelta(0)
    for opening, closing in calendar_.open_intervals(start):
        if opening >= end:
            break
        total += min(closing, end) - opening
    return total


# Two years: the walk stops at calendar.SEARCH_DAYS.
_INSTANTS = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(_INSTANTS, _INSTANTS), min_size=1, max_size=6))
def test_business_time_between_matches_a_walk_over_the_days(
    pairs: list[tuple[datetime, datetime]],
) -> None:
    # One calendar for several questions, as in a request: its table of days then grows
    # forwards and backwards from the first day asked about.
    calendar_ = BusinessCalendar(closed_days=frozenset({date(2027, 6, 1)}))
    for a, b in pairs:
        start, end = min(a, b), max(a, b)
        assert calendar_.between(start, end) == _walked(calendar_, start, end)
        assert calendar_.between(end, start) == -_walked(calendar_, start, end)


def test_whit_monday_is_a_switch() -> None:
    whit_monday = parse_instant("2027-05-17T10:00:00Z")
    assert not PARIS.is_business_hours(whit_monday)
    assert BusinessCalendar(whit_monday_worked=True).is_business_hours(whit_monday)
    # Only Whit Monday: Easter Monday stays closed with the switch on.
    easter = parse_instant("2027-03-29T08:00:00Z")
    assert not BusinessCalendar(whit_monday_worked=True).is_business_hours(easter)


def test_public_holidays_are_worked_out_once_a_year_per_process(monkeypatch) -> None:
    """A calendar is built for each request and each mail filed: a year's holidays are not
    worked out again for each one."""
    import holidays

    worked_out: list[object] = []
    country_holidays = holidays.country_holidays

    def counting(*args: object, **kwargs: object) -> object:
        worked_out.append(kwargs.get("years"))
        return country_holidays(*args, **kwargs)

    monkeypatch.setattr(holidays, "country_holidays", counting)
    calendar.public_holidays.cache_clear()
    for _ in range(3):
        assert BusinessCalendar().holiday(date(2031, 7, 14)) == "Fête nationale"
        assert BusinessCalendar().holiday(date(2031, 7, 15)) is None
    assert BusinessCalendar().holiday(date(2032, 12, 25)) == "Noël"
    assert worked_out == [2031, 2032]
    assert BusinessCalendar(holiday_country=None).holiday(date(2031, 7, 14)) is None


def test_closed_days_are_skipped() -> None:
    bridge = BusinessCalendar(closed_days=frozenset({date(2026, 11, 30)}))
    start = parse_instant("2026-11-27T17:00:00+01:00")
    assert bridge.add(start, timedelta(hours=4)) == parse_instant("2026-12-01T12:00:00+01:00")
    assert bridge.holiday(date(2026, 11, 30)) == "closed"


def test_instants_without_an_offset_are_refused() -> None:
    with pytest.raises(CalendarError, match="no UTC offset"):
        parse_instant("2027-03-30T07:30:00")
    with pytest.raises(CalendarError, match="no UTC offset"):
        PARIS.is_business_hours(datetime(2027, 3, 30, 7, 30))
    with pytest.raises(CalendarError, match="not an ISO 8601 instant"):
        parse_instant("mardi 9h")


def test_a_calendar_without_working_days_is_refused() -> None:
    with pytest.raises(CalendarError):
        BusinessCalendar(working_days=frozenset())
    with pytest.raises(CalendarError):
        BusinessCalendar(opens=time(18), closes=time(9))


def test_another_zone_and_hours_from_the_configuration(app) -> None:
    from supportit.config import calendar_settings

    config = calendar_settings(
        {
            "SUPPORTIT_CALENDAR_TIMEZONE": "America/Montreal",
            "SUPPORTIT_CALENDAR_OPENS": "08:30",
            "SUPPORTIT_CALENDAR_CLOSES": "17:00",
            "SUPPORTIT_CALENDAR_HOLIDAYS": "none",
        }
    )
    montreal = calendar.from_config(config)
    assert montreal.zone == ZoneInfo("America/Montreal")
    assert montreal.is_business_hours(parse_instant("2026-12-25T14:00:00Z"))  # no holidays
    assert not montreal.is_business_hours(parse_instant("2026-11-30T13:29:00Z"))  # 08:29


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("CALENDAR_TIMEZONE", "Europe/Pariss", "IANA time zone"),
        ("CALENDAR_OPENS", "9h", "a time such as 09:00"),
        ("CALENDAR_WORKING_DAYS", "lundi", "must list days"),
        ("CALENDAR_HOLIDAYS", "XX", "country code"),
        ("CALENDAR_WHIT_MONDAY_WORKED", "peut-être", "true/false"),
    ],
)
def test_bad_calendar_settings_stop_the_start(name: str, value: str, message: str) -> None:
    from supportit.config import ConfigError, calendar_settings

    with pytest.raises(ConfigError, match=message):
        calendar_settings({f"SUPPORTIT_{name}": value})


def test_sla_due_cli_prints_the_instant_in_paris_time(app) -> None:
    result = app.test_cli_runner().invoke(
        args=["sla", "due", "--start", "2026-11-27T17:00:00+01:00", "--hours", "4"]
    )
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "2026-11-30T12:00:00+01:00"


def test_sla_due_cli_refuses_an_instant_without_offset(app) -> None:
    result = app.test_cli_runner().invoke(
        args=["sla", "due", "--start", "2026-11-27T17:00:00", "--hours", "4"]
    )
    assert result.exit_code == 2
    assert "no UTC offset" in result.output


def test_closed_days_from_the_cli_move_the_deadlines(app) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["calendar", "close", "2026-11-30", "--reason", "Séminaire"])
    assert result.exit_code == 0, result.output
    again = runner.invoke(args=["calendar", "close", "2026-11-30", "--reason", "Séminaire"])
    assert again.exit_code == 1 and "Ce jour est déjà fermé." in again.output
    due = runner.invoke(args=["sla", "due", "--start", "2026-11-27T17:00:00+01:00", "--hours", "4"])
    assert due.output.strip() == "2026-12-01T12:00:00+01:00"
    days = runner.invoke(args=["calendar", "closed", "--year", "2026"]).output
    assert "2026-11-30  Séminaire" in days and "2026-12-25" in days
    show = json.loads(
        runner.invoke(args=["calendar", "show", "--at", "2026-11-30T10:00:00Z"]).output
    )
    assert show["business_hours"] is False
    assert show["next_opening"] == "2026-12-01T09:00:00+01:00"
    assert runner.invoke(args=["calendar", "open", "2026-11-30"]).output.endswith("reopened\n")
