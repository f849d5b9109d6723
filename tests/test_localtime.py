"""The `localtime` filter writes what Flask-Babel's format_datetime writes, faster."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask_babel import force_locale, format_datetime
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from supportit.templating import localtime

FORMATS = (
    "short",
    "medium",
    "long",
    "full",
    "d MMM HH:mm",
    "EEE d LLL yy, h:mm a",
    "yyyy-MM-dd kk:mm:ss",
)
# Three years around the project's dates, so that daylight-saving changes are crossed.
INSTANTS = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2028, 1, 1), timezones=st.just(UTC)
)


# The app is only read (its time zone and catalogues): sharing it between inputs is safe.
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(instant=INSTANTS, language=st.sampled_from(["fr", "en"]), fmt=st.sampled_from(FORMATS))
def test_localtime_is_babels_format_datetime(app, instant, language, fmt) -> None:
    with app.test_request_context("/"), force_locale(language):
        assert localtime(instant, fmt) == format_datetime(instant, fmt)


def test_localtime_around_the_autumn_change_and_without_a_zone(app) -> None:
    # 2026-10-25: 03:00 summer time in Paris is 02:00 winter time; both hours read 02:30.
    first = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    with app.test_request_context("/"), force_locale("fr"):
        assert localtime(first, "short") == "25/10/2026 02:30"
        assert localtime(first + timedelta(hours=1), "short") == "25/10/2026 02:30"
        # A naive instant is read as UTC, as Babel reads it.
        assert localtime(first.replace(tzinfo=None), "short") == "25/10/2026 02:30"
        assert localtime(None) == ""
    with app.test_request_context("/"), force_locale("en"):
        assert localtime(first, "medium") == format_datetime(first, "medium")
        assert "CEST" in localtime(first, "full") or "summer" in localtime(first, "full").lower()
