"""Monitors against real local servers: the Paygate stand-in and an HTTPS server with a throwaway
certificate. Incidents open within three checks, page once, flap as one, resolve on their own."""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import time_machine
import trustme
from sqlalchemy import func, select

from monitors.base import CheckResult
from supportit.db import db
from supportit.models import (
    Alert,
    AlertStatus,
    CheckStatus,
    Incident,
    IncidentStatus,
    MaintenanceWindow,
    Monitor,
    MonitorHourly,
    MonitorResult,
    Notification,
)
from supportit.paygate.fake import Account, FakePaygate, Faults
from supportit.services import monitoring, paygate
from supportit.services.calendar import parse_instant
from supportit.services.errors import ServiceError
from tests.e2e.live import serve

ACCOUNT = Account("maliterie_recette", "Bf7#kq2Lz9", "hmac-secret-for-tests")
START = parse_instant("2026-11-30T10:00:00+01:00")  # a Monday, in business hours


@pytest.fixture
def fake() -> Iterator[tuple[FakePaygate, str]]:
    stand_in = FakePaygate([ACCOUNT], notify_delays=(0,))
    url = stand_in.start()
    yield stand_in, url
    stand_in.stop()


def http_monitor(url: str, **settings) -> Monitor:  # type: ignore[no-untyped-def]
    return monitoring.save_monitor(
        None,
        monitoring.MonitorInput(
            name="Paygate floapay.aspx",
            kind="http",
            service="payment",
            target=f"{url}/floapay.aspx",
            settings={"timeout": 1, "retries": 0, **settings},
        ),
    )


def run(monitor: Monitor, at: datetime) -> MonitorResult:
    return monitoring.check_now(monitor, at)


def alerts_for(monitor: Monitor) -> list[Alert]:
    return list(db.session.scalars(select(Alert).where(Alert.dedup_key == monitor.alert_key)))


def test_an_incident_opens_after_three_failures_pages_once_and_resolves(app, world, fake):
    stand_in, url = fake
    monitor = http_monitor(url, expected_text="Paygate")
    assert run(monitor, START).status is CheckStatus.UP
    stand_in.faults = Faults(fail={"floapay.aspx"})
    for minute in (1, 2):
        result = run(monitor, START + timedelta(minutes=minute))
        assert result.status is CheckStatus.DOWN and "HTTP 500" in result.detail
        assert monitoring.open_incident(monitor) is None  # not yet: two failures
    run(monitor, START + timedelta(minutes=3))
    incident = monitoring.open_incident(monitor)
    assert incident is not None and incident.worst is CheckStatus.DOWN
    for minute in (4, 5, 6):
        run(monitor, START + timedelta(minutes=minute))
    assert len(alerts_for(monitor)) == 1 and alerts_for(monitor)[0].occurrences == 1
    told = db.session.scalar(select(func.count(Notification.id)))
    stand_in.faults = Faults()
    run(monitor, START + timedelta(minutes=7))
    assert monitoring.open_incident(monitor) is not None  # one success is not enough
    run(monitor, START + timedelta(minutes=8))
    db.session.refresh(incident)
    assert incident.status is IncidentStatus.RESOLVED
    assert [e.kind for e in incident.events] == ["opened", "resolved"]
    assert alerts_for(monitor)[0].status is AlertStatus.RESOLVED
    assert db.session.scalar(select(func.count(Notification.id))) > told  # resolution told


def test_timeouts_missing_text_and_refused_connections_are_down(app, world, fake):
    stand_in, url = fake
    stand_in.faults = Faults(slow={"floapay.aspx": 1.5})
    slow = run(http_monitor(url), START)
    assert slow.status is CheckStatus.DOWN and "no answer within 1 s" in slow.detail
    stand_in.faults = Faults()
    text = monitoring.save_monitor(
        None,
        monitoring.MonitorInput(
            name="text",
            kind="http",
            service="payment",
            target=f"{url}/floapay.aspx",
            settings={"expected_text": "Welcome", "retries": 0},
        ),
    )
    assert "does not contain 'Welcome'" in run(text, START).detail
    refused = monitoring.save_monitor(
        None,
        monitoring.MonitorInput(
            name="closed port",
            kind="http",
            service="payment",
            target="http://127.0.0.1:9/",
            settings={"retries": 1, "timeout": 1},
        ),
    )
    assert run(refused, START).detail.startswith("connection failed")


def test_slow_answers_are_degraded_and_worsen_to_down(app, world, fake):
    stand_in, url = fake
    monitor = http_monitor(url, latency_warn_ms=100)
    stand_in.faults = Faults(slow={"floapay.aspx": 0.2})
    for minute in range(3):
        assert run(monitor, START + timedelta(minutes=minute)).status is CheckStatus.DEGRADED
    incident = monitoring.open_incident(monitor)
    assert incident.worst is CheckStatus.DEGRADED
    assert alerts_for(monitor)[0].priority.value == "P3"
    stand_in.faults = Faults(fail={"floapay.aspx"})
    run(monitor, START + timedelta(minutes=3))
    assert incident.worst is CheckStatus.DOWN
    assert [e.kind for e in incident.events] == ["opened", "worsened"]
    assert len(alerts_for(monitor)) == 1  # the same incident, the same alert


def test_flapping_is_one_incident(app, world, fake):
    stand_in, url = fake
    monitor = http_monitor(url)
    at = START
    stand_in.faults = Faults(fail={"floapay.aspx"})
    for _ in range(3):
        at += timedelta(minutes=1)
        run(monitor, at)
    for _ in range(4):  # up, down, up, down...: never two successes in a row
        stand_in.faults = Faults()
        at += timedelta(minutes=1)
        run(monitor, at)
        stand_in.faults = Faults(fail={"floapay.aspx"})
        at += timedelta(minutes=1)
        run(monitor, at)
    incidents = db.session.scalars(select(Incident)).all()
    assert len(incidents) == 1 and incidents[0].flapping
    assert "flapping" in [e.kind for e in incidents[0].events]
    assert len(alerts_for(monitor)) == 1


def test_a_failure_soon_after_resolution_reopens_the_same_incident(app, world, fake):
    stand_in, url = fake
    monitor = http_monitor(url)
    at = START
    for fail in (True, True, True, False, False, True, True, True):
        stand_in.faults = Faults(fail={"floapay.aspx"} if fail else set())
        at += timedelta(minutes=1)
        run(monitor, at)
    incidents = db.session.scalars(select(Incident)).all()
    assert len(incidents) == 1 and incidents[0].status is IncidentStatus.OPEN
    assert [e.kind for e in incidents[0].events] == ["opened", "resolved", "reopened"]


def test_failure_ratio_opens_without_consecutive_failures(app, world, fake):
    stand_in, url = fake
    monitor = http_monitor(url)
    monitor.failure_ratio, monitor.window = 0.5, 4
    db.session.commit()
    at = START
    for fail in (True, False, True, False):
        stand_in.faults = Faults(fail={"floapay.aspx"} if fail else set())
        at += timedelta(minutes=1)
        run(monitor, at)
    stand_in.faults = Faults(fail={"floapay.aspx"})
    run(monitor, at + timedelta(minutes=1))  # 3 of the last 4 failed, never 3 in a row
    assert monitoring.open_incident(monitor) is not None


def test_maintenance_windows_silence_a_monitor(app, world, fake):
    stand_in, url = fake
    monitor = http_monitor(url)
    db.session.add(
        MaintenanceWindow(
            monitor_id=monitor.id,
            starts_at=START,
            ends_at=START + timedelta(minutes=10),
            reason="upgrade",
        )
    )
    # Every Sunday 23:00 Paris time for 2 hours, for every monitor.
    db.session.add(MaintenanceWindow(weekday=6, start_time=time(23, 0), duration_minutes=120))
    db.session.commit()
    stand_in.faults = Faults(fail={"floapay.aspx"})
    for minute in range(5):
        assert run(monitor, START + timedelta(minutes=minute)).in_maintenance
    assert monitoring.open_incident(monitor) is None and alerts_for(monitor) == []
    sunday_night = parse_instant("2026-12-07T00:30:00+01:00")  # Monday 00:30, window from Sunday
    assert monitoring.in_maintenance(monitor, sunday_night)
    assert not monitoring.in_maintenance(monitor, sunday_night + timedelta(hours=1))


def test_incident_state_survives_a_restart(app, world, fake):
    """Nothing but the database carries state: a new process neither re-pages nor forgets."""
    stand_in, url = fake
    monitor = http_monitor(url)
    stand_in.faults = Faults(fail={"floapay.aspx"})
    for minute in range(3):
        run(monitor, START + timedelta(minutes=minute))
    monitor_id = monitor.id
    db.session.remove()  # as if the scheduler restarted
    monitor = db.session.get(Monitor, monitor_id)
    run(monitor, START + timedelta(minutes=4))
    assert len(alerts_for(monitor)) == 1
    stand_in.faults = Faults()
    for minute in (5, 6):
        run(monitor, START + timedelta(minutes=minute))
    assert alerts_for(monitor)[0].status is AlertStatus.RESOLVED


def test_the_due_runner_checks_in_threads_and_coalesces_missed_runs(app, world, fake):
    _, url = fake
    monitor = http_monitor(url)
    monitor.next_run_at = START - timedelta(hours=1)  # the scheduler was down for an hour
    db.session.commit()
    assert monitoring.run_due(now=START, wait=True) == 1
    assert monitoring.run_due(now=START + timedelta(seconds=30), wait=True) == 0
    db.session.expire_all()
    assert db.session.get(Monitor, monitor.id).next_run_at == START + timedelta(seconds=60)
    assert db.session.scalar(select(func.count(MonitorResult.id))) == 1
    monitoring.set_paused(None, db.session.get(Monitor, monitor.id), True)
    assert monitoring.run_due(now=START + timedelta(hours=2), wait=True) == 0


# --- certificates ------------------------------------------------------------------------------


@pytest.fixture
def https_server(tmp_path) -> Iterator[tuple[str, str, trustme.CA]]:
    ca = trustme.CA()
    expires = datetime.now(UTC) + timedelta(days=5)
    cert = ca.issue_cert("localhost", not_after=expires)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"Computop Paygate")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert.configure_cert(context)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    yield f"https://localhost:{server.server_address[1]}", str(ca_file), ca
    server.shutdown()


def test_a_certificate_close_to_expiry_is_degraded(app, world, https_server):
    url, ca_file, _ = https_server
    app.config["MONITOR_CA_BUNDLE"] = ca_file
    monitor = http_monitor(url, cert_warn_days=14)
    result = run(monitor, datetime.now(UTC))
    assert result.status is CheckStatus.DEGRADED and "certificate expires in 5" in result.detail
    app.config["MONITOR_CA_BUNDLE"] = None  # the system's CAs do not know this one
    untrusted = monitoring.save_monitor(
        None,
        monitoring.MonitorInput(
            name="untrusted", kind="http", service="payment", target=url, settings={"retries": 0}
        ),
    )
    assert run(untrusted, datetime.now(UTC)).detail.startswith("TLS error")


# --- synthetic transactions and notifications ------------------------------------------------


def test_synthetic_transaction_and_its_notification_deadline(app, world, fake):
    stand_in, url = fake
    paygate.save_account(None, world.literie, ACCOUNT.mid, "recette", ACCOUNT.key, ACCOUNT.hmac_key)
    synthetic = monitoring.save_monitor(
        None,
        monitoring.MonitorInput(
            name="capture synthetic",
            kind="synthetic",
            service="capture",
            target=url,
            settings={"mid": ACCOUNT.mid},
        ),
    )
    deadline = monitoring.save_monitor(
        None,
        monitoring.MonitorInput(
            name="URLNotify deadline",
            kind="notification",
            service="notifications",
            settings={"source_monitor_id": synthetic.id, "deadline_seconds": 60},
        ),
    )
    with serve(app) as base_url:
        app.config["BASE_URL"] = base_url
        sent = run(synthetic, START)
        assert sent.status is CheckStatus.UP and "Code 00000000" in sent.detail
        stand_in_done = threading.Event()
        for _ in range(100):
            if stand_in.notifications_sent:
                stand_in_done.set()
                break
            stand_in_done.wait(0.05)
        assert stand_in.notifications_sent and stand_in.notifications_sent[0][1] == 200
    # The received_at is real time; the deadline is judged a minute after START's send.
    received = run(deadline, datetime.now(UTC) + timedelta(seconds=61))
    assert received.status is not CheckStatus.DOWN, received.detail
    stand_in.faults = Faults(no_notify=True)
    lost = run(synthetic, START + timedelta(minutes=10))
    assert lost.status is CheckStatus.UP
    late = run(deadline, START + timedelta(minutes=12))
    assert late.status is CheckStatus.DOWN and "no notification for TransID" in late.detail
    stand_in.faults = Faults(bad_mac=True)
    forged = run(synthetic, START + timedelta(minutes=20))
    assert forged.status is CheckStatus.DOWN and "MAC" in forged.detail


def test_a_merchant_silent_for_longer_than_usual_gets_a_warning(app, world):
    from supportit.models import NotificationState, PaygateNotification

    # Four weeks of a notification every 10 minutes between 10:00 and 11:00 Paris time.
    for day in range(28):
        base = parse_instant("2026-11-02T10:00:00+01:00") + timedelta(days=day)
        for index in range(7):
            db.session.add(
                PaygateNotification(
                    merchant_id=world.literie.id,
                    state=NotificationState.ACCEPTED,
                    pay_id=f"{day:02d}{index:02d}",
                    paygate_status="OK",
                    code="00000000",
                    received_at=base + timedelta(minutes=10 * index),
                    last_received_at=base + timedelta(minutes=10 * index),
                )
            )
    db.session.commit()
    silence = monitoring.save_monitor(
        None,
        monitoring.MonitorInput(
            name="Ma Literie silence",
            kind="silence",
            service="notifications",
            merchant_id=world.literie.id,
            settings={"factor": 2, "min_minutes": 5},
        ),
    )
    # Today: 10:00, 10:10, 10:20, then nothing.
    today = parse_instant("2026-11-30T10:00:00+01:00")
    for index in range(3):
        at = today + timedelta(minutes=10 * index)
        db.session.add(
            PaygateNotification(
                merchant_id=world.literie.id,
                state=NotificationState.ACCEPTED,
                pay_id=f"t{index}",
                paygate_status="OK",
                code="00000000",
                received_at=at,
                last_received_at=at,
            )
        )
    db.session.commit()
    assert run(silence, today + timedelta(minutes=35)).status is CheckStatus.UP
    warned = run(silence, today + timedelta(minutes=60))
    assert warned.status is CheckStatus.DEGRADED and "silence" in warned.detail
    assert "usual longest gap is 10 min" in warned.detail
    # Once the shop's day is over (after 11:00), the night's silence is its usual one.
    evening = parse_instant("2026-11-29T16:00:00+01:00")
    assert run(silence, evening).status is CheckStatus.UP


# --- history and management --------------------------------------------------------------------


def test_retention_folds_hours_and_keeps_uptime(app, world, fake):
    _, url = fake
    monitor = http_monitor(url)
    old = START - timedelta(days=10)
    for minute in range(60):
        status = CheckStatus.DOWN if minute < 6 else CheckStatus.UP
        db.session.add(
            MonitorResult(
                monitor_id=monitor.id,
                checked_at=old + timedelta(minutes=minute),
                status=status,
                latency_ms=float(minute),
                detail="",
            )
        )
    db.session.commit()
    with time_machine.travel(old + timedelta(hours=1), tick=False):  # raw results, still kept
        assert monitoring.uptime(monitor.id, old, old + timedelta(hours=1)) == pytest.approx(90)
    with time_machine.travel(START, tick=False):
        done = monitoring.apply_retention(START)
    assert done["raw_deleted"] == 60 and done["hours_folded"] >= 1
    hourly = db.session.scalars(select(MonitorHourly)).all()
    assert [(h.checks, h.failures) for h in hourly] == [(60, 6)]
    with time_machine.travel(START, tick=False):
        assert monitoring.uptime(monitor.id, START - timedelta(days=30), START) == pytest.approx(
            90.0
        )
        # A day's uptime from the aggregates alone (the status page's 90 bars).
        day = old.replace(hour=0, minute=0)
        assert monitoring.uptime(monitor.id, day, day + timedelta(days=1)) == pytest.approx(90)
        assert monitoring.apply_retention(START)["hours_folded"] == 0  # never folded twice


def test_only_admins_manage_monitors_and_bad_settings_are_refused(app, world):
    data = monitoring.MonitorInput(name="x", kind="http", service="payment", target="ftp://example")
    with pytest.raises(ServiceError) as error:
        monitoring.save_monitor(world.admin, data)
    assert error.value.field == "target"
    with pytest.raises(ServiceError):
        monitoring.save_monitor(
            world.agent,
            monitoring.MonitorInput(
                name="x", kind="http", service="payment", target="http://example"
            ),
        )


def test_cli_add_list_pause_check_delete(app, world, fake):
    _, url = fake
    runner = app.test_cli_runner()
    added = runner.invoke(
        args=[
            "monitors",
            "add",
            "--name",
            "capture",
            "--kind",
            "http",
            "--service",
            "capture",
            "--target",
            f"{url}/capture.aspx",
            "--set",
            "timeout=2",
            "--set",
            "expected_text=Paygate",
        ]
    )
    assert added.exit_code == 0, added.output
    assert '"timeout": 2' in added.output
    assert "capture" in runner.invoke(args=["monitors", "list"]).output
    assert runner.invoke(args=["monitors", "check", "capture"]).output.startswith("up")
    assert "paused" in runner.invoke(args=["monitors", "pause", "capture"]).output
    assert "paused" in runner.invoke(args=["monitors", "list"]).output
    assert runner.invoke(args=["monitors", "pause", "capture", "--resume"]).exit_code == 0
    assert runner.invoke(args=["monitors", "delete", "capture"]).exit_code == 0
    assert runner.invoke(args=["monitors", "check", "capture"]).exit_code == 1


def test_daily_uptime_agrees_with_uptime_day_by_day(app, world) -> None:
    """The status page's 90 bars, in two queries, say what `uptime` says for each day."""
    now = parse_instant("2026-11-30T15:30:00Z")
    first = http_monitor("http://127.0.0.1:9")
    second = monitoring.save_monitor(
        None,
        monitoring.MonitorInput(
            name="second", kind="http", service="payment", target="http://127.0.0.1:9/x"
        ),
    )
    for monitor, failures in ((first, 6), (second, 30)):
        for days_back in range(1, 20):  # hourly aggregates, older than the raw results' cutoff
            db.session.add(
                MonitorHourly(
                    monitor_id=monitor.id,
                    checks=60,
                    failures=failures if days_back % 3 else 0,
                    hour=now.replace(minute=0) - timedelta(days=days_back),
                )
            )
        for minutes_back in range(0, 3 * 24 * 60, 17):  # raw results around today
            db.session.add(
                MonitorResult(
                    monitor_id=monitor.id,
                    checked_at=now - timedelta(minutes=minutes_back),
                    status=CheckStatus.DOWN if minutes_back % 5 == 0 else CheckStatus.UP,
                    in_maintenance=minutes_back % 7 == 0,
                )
            )
    db.session.commit()
    with time_machine.travel(now - timedelta(days=6), tick=False):  # cutoff inside the period
        days = monitoring.daily_uptime([first.id, second.id], 30, now)
        for day in days:
            end = min(day.day + timedelta(days=1), now)
            values = [monitoring.uptime(m.id, day.day, end) for m in (first, second)]
            known = [value for value in values if value is not None]
            expected = min(known) if known else None
            assert day.uptime == pytest.approx(expected), day.day
    assert any(day.uptime is not None and day.uptime < 100 for day in days)


def test_a_probe_with_nothing_to_judge_is_stored_without_loading_its_monitor(app, world, fake):
    _, url = fake
    monitor = http_monitor(url, expected_text="Paygate")
    monitor_id = monitor.id
    up = CheckResult.up("HTTP 200", 12.0)
    db.session.expunge_all()
    stored = monitoring.record(monitor_id, up, START, 40.0)
    # Counters moved and the result stored by statements, not through the ORM's objects.
    assert not [o for o in db.session.identity_map.values() if isinstance(o, Monitor)]
    row = db.session.get(MonitorResult, stored)
    assert (row.monitor_id, row.status, row.latency_ms, row.lag_ms, row.in_maintenance) == (
        monitor_id,
        CheckStatus.UP,
        12.0,
        40.0,
        False,
    )
    monitor = db.session.get(Monitor, monitor_id)
    assert (monitor.state, monitor.last_checked_at, monitor.consecutive_successes) == (
        CheckStatus.UP,
        START,
        1,
    )
    # A failure has something to judge: the monitor is loaded, its counters as just moved.
    down = CheckResult.down("HTTP 500")
    for minute in (1, 2, 3):
        monitoring.record(monitor_id, down, START + timedelta(minutes=minute), None)
    assert monitor.consecutive_failures == 3 and monitor.consecutive_successes == 0
    assert monitoring.open_incident(monitor) is not None
    # While the incident is open a success is judged too: two of them resolve it.
    for minute in (4, 5):
        monitoring.record(monitor_id, up, START + timedelta(minutes=minute), None)
    assert monitoring.open_incident(monitor) is None
