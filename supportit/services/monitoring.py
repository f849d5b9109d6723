"""Run supervision: running due monitors, judging their results, incidents, history.

The scheduler's `monitors-due` job calls `run_due` every second. Each due monitor is claimed
(its next run moved forward by a conditional UPDATE), checked in a worker thread, and its result
recorded in one transaction with whatever it changes: counters, the incident, the alert. Incident
state is in the database, so a restarted scheduler carries on where the last one stopped.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_all
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from statistics import quantiles
from time import monotonic
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, current_app
from sqlalchemy import bindparam, delete, func, insert, select, update

from monitors import CHECKS
from monitors.base import CheckResult, MonitorSpec
from supportit.db import db, utcnow
from supportit.i18n import lazy_gettext as _l
from supportit.models import (
    CheckStatus,
    Incident,
    IncidentEvent,
    IncidentStatus,
    MaintenanceWindow,
    Monitor,
    MonitorHourly,
    MonitorKind,
    MonitorResult,
    Priority,
    Ticket,
    User,
)
from supportit.services import alerts
from supportit.services.errors import ServiceError

log = logging.getLogger(__name__)

RAW_RETENTION = timedelta(days=7)
HOURLY_RETENTION = timedelta(days=365)
# A failure this soon after an incident closed reopens it: a flapping service is one incident.
REOPEN_WITHIN_INTERVALS = 10
FLAPS_FOR_FLAPPING = 3

SERVICES = {
    "payment": _l("Payment page (floapay.aspx)"),
    "capture": _l("Capture (capture.aspx)"),
    "credit": _l("Refund (credit.aspx)"),
    "reverse": _l("Cancellation (reverse.aspx)"),
    "notifications": _l("Payment notifications"),
    "documentation": _l("Documentation"),
}

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()
_running: set[int] = set()  # monitors whose check is in progress in this process


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            workers = int(current_app.config.get("MONITOR_WORKERS", 32))
            _pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="monitor")
        return _pool


def shutdown(wait: bool = True) -> None:
    """Let running checks finish (or drop queued ones): called on SIGTERM."""
    global _pool
    with _pool_lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=wait, cancel_futures=True)


# --- running ---------------------------------------------------------------------------------


def _next_run(monitor: Monitor, scheduled: datetime, now: datetime) -> datetime:
    following = scheduled + timedelta(seconds=monitor.interval_seconds)
    # Missed runs (a scheduler that was down) collapse into one: never replayed as a burst.
    return following if following > now else now + timedelta(seconds=monitor.interval_seconds)


def run_due(now: datetime | None = None, wait: bool = False, limit: int = 500) -> int:
    """Start the checks of the monitors that are due; with `wait`, return once recorded."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    now = now or utcnow()
    due = db.session.scalars(
        select(Monitor)
        .where(Monitor.paused.is_(False), Monitor.next_run_at <= now)
        .order_by(Monitor.next_run_at)
        .limit(limit)
    ).all()
    claimed: list[tuple[MonitorSpec, datetime]] = []
    moves = []
    for monitor in due:
        if monitor.id in _running:
            continue  # still checking from the last round (a slow endpoint): no overlap
        moves.append(
            {"id": monitor.id, "next_run_at": _next_run(monitor, monitor.next_run_at, now)}
        )
        claimed.append((MonitorSpec.of(monitor), monitor.next_run_at))
    if moves:
        # One executemany by primary key: only the leader runs this (advisory lock or lease),
        # so no other process claims the same monitors.
        db.session.execute(update(Monitor), moves)
    db.session.commit()
    futures: list[Future[None]] = []
    for spec, scheduled in claimed:
        _running.add(spec.id)
        futures.append(_executor().submit(_run_one, app, spec, scheduled, now if wait else None))
    if wait:
        wait_all(futures)
    return len(claimed)


def _run_one(app: Flask, spec: MonitorSpec, scheduled: datetime, at: datetime | None) -> None:
    try:
        with app.app_context():
            started = utcnow()
            lag_ms = max(0.0, (started - scheduled).total_seconds() * 1000)
            at = at or started
            try:
                result = CHECKS[spec.kind](spec, at)
            except Exception as error:  # a bug in one check must not stop the scheduler
                log.exception("monitor %s: check failed", spec.name)
                db.session.rollback()
                result = CheckResult.down(f"the check itself failed: {type(error).__name__}")
            try:
                record(spec.id, result, at, lag_ms)
            except LookupError:
                db.session.rollback()  # deleted while its check ran: nothing to record
            except Exception:
                db.session.rollback()
                log.exception("monitor %s: result not recorded", spec.name)
            finally:
                db.session.remove()
    finally:
        _running.discard(spec.id)


def check_now(monitor: Monitor, now: datetime | None = None) -> MonitorResult:
    """Run one check in this thread and record it (the CLI and the "check now" button)."""
    now = now or utcnow()
    spec = MonitorSpec.of(monitor)
    try:
        result = CHECKS[spec.kind](spec, now)
    except Exception as error:
        db.session.rollback()
        result = CheckResult.down(f"the check itself failed: {type(error).__name__}")
    stored = db.session.get(MonitorResult, record(spec.id, result, now, None))
    assert stored is not None  # committed by record
    return stored


# --- judging results -------------------------------------------------------------------------

# Each probe runs these, so they are statements built once and run without the ORM: reading
# the monitor as an object, flushing it and its result and looking the open incident up as
# an object took half of a probe's CPU. The monitor is loaded only when there is something to
# judge: a failure, or a success while an incident is open.
_monitor_table = Monitor.__table__
_COUNTERS = select(
    Monitor.consecutive_failures, Monitor.consecutive_successes, Monitor.successes_to_close
).where(Monitor.id == bindparam("monitor_id"))
_MOVE_COUNTERS = (
    update(_monitor_table)
    .where(_monitor_table.c.id == bindparam("monitor_id"))
    .values(
        last_checked_at=bindparam("checked_at", type_=_monitor_table.c.last_checked_at.type),
        state=bindparam("status", type_=_monitor_table.c.state.type),
        consecutive_failures=bindparam("failures"),
        consecutive_successes=bindparam("successes"),
    )
)
_INSERT_RESULT = insert(MonitorResult.__table__)
_OPEN_INCIDENT = select(Incident.id).where(
    Incident.monitor_id == bindparam("monitor_id"), Incident.status == IncidentStatus.OPEN
)


def record(monitor_id: int, result: CheckResult, at: datetime, lag_ms: float | None) -> int:
    """Store a check's result, move the monitor's counters, judge (open or resolve an
    incident, page) and commit. Returns the stored result's id."""
    counters = db.session.execute(_COUNTERS, {"monitor_id": monitor_id}).one_or_none()
    if counters is None:
        raise LookupError(monitor_id)  # deleted while its check ran
    failures, successes, successes_to_close = counters
    failing = result.status is not CheckStatus.UP
    was_recovering = successes > 0
    failures, successes = (failures + 1, 0) if failing else (0, successes + 1)
    quiet = _in_maintenance(monitor_id, at)
    # A monitor's checks never overlap (`_running`, and one scheduler runs them), so its
    # counters are read and written back without a race.
    db.session.execute(
        _MOVE_COUNTERS,
        {
            "monitor_id": monitor_id,
            "checked_at": at,
            "status": result.status,
            "failures": failures,
            "successes": successes,
        },
    )
    stored = db.session.execute(
        _INSERT_RESULT,
        {
            "monitor_id": monitor_id,
            "checked_at": at,
            "status": result.status,
            "latency_ms": result.latency_ms,
            "detail": (result.detail or "")[:500],
            "lag_ms": lag_ms,
            "in_maintenance": quiet,
        },
    ).inserted_primary_key[0]
    # A monitor long up has no open incident (it would have closed): the common case of every
    # probe, with nothing to look up.
    settled = not failing and successes > 3 * successes_to_close
    if not settled and (
        failing or db.session.scalar(_OPEN_INCIDENT, {"monitor_id": monitor_id}) is not None
    ):
        # As the statements above left it, even if this session held it already (check_now).
        monitor = db.session.get(Monitor, monitor_id, populate_existing=True)
        assert monitor is not None  # read above, in this transaction
        _judge(monitor, result, at, quiet, was_recovering)
    db.session.commit()
    return int(stored)


def open_incident(monitor: Monitor) -> Incident | None:
    return db.session.scalars(
        select(Incident)
        .where(Incident.monitor_id == monitor.id, Incident.status == IncidentStatus.OPEN)
        .order_by(Incident.id.desc())
    ).first()


def _judge(
    monitor: Monitor, result: CheckResult, at: datetime, quiet: bool, was_recovering: bool
) -> None:
    incident = open_incident(monitor)
    failing = result.status is not CheckStatus.UP
    if failing:
        if incident is None:
            if quiet or not _should_open(monitor):
                return
            _open(monitor, result, at)
            return
        if was_recovering:
            # It came back and failed again before the incident could close.
            incident.flaps += 1
            if incident.flaps == FLAPS_FOR_FLAPPING:
                _event(incident, "flapping", at, result.detail)
        if result.status is CheckStatus.DOWN and incident.worst is CheckStatus.DEGRADED:
            incident.worst = CheckStatus.DOWN
            _event(incident, "worsened", at, result.detail)
            if not quiet:
                _alert(monitor, incident, result, at)
        return
    if incident is not None:
        needed = monitor.successes_to_close * (3 if incident.flapping else 1)
        if monitor.consecutive_successes >= needed:
            _resolve(monitor, incident, at, result.detail)


def _should_open(monitor: Monitor) -> bool:
    if monitor.consecutive_failures >= monitor.failures_to_open:
        return True
    if monitor.failure_ratio <= 0:
        return False
    recent = db.session.scalars(
        select(MonitorResult.status)
        .where(MonitorResult.monitor_id == monitor.id, MonitorResult.in_maintenance.is_(False))
        .order_by(MonitorResult.checked_at.desc(), MonitorResult.id.desc())
        .limit(monitor.window)
    ).all()
    if len(recent) < monitor.window:
        return False
    failed = sum(1 for status in recent if status is not CheckStatus.UP)
    return failed / len(recent) >= monitor.failure_ratio


def _open(monitor: Monitor, result: CheckResult, at: datetime) -> None:
    window = timedelta(seconds=monitor.interval_seconds * REOPEN_WITHIN_INTERVALS)
    last = db.session.scalars(
        select(Incident)
        .where(Incident.monitor_id == monitor.id, Incident.resolved_at >= at - window)
        .order_by(Incident.id.desc())
    ).first()
    if last is not None:
        last.status = IncidentStatus.OPEN
        last.resolved_at = None
        last.flaps += 1
        last.worst = max(last.worst, result.status, key=_severity)
        _event(last, "reopened", at, result.detail)
        if last.flaps == FLAPS_FOR_FLAPPING:
            _event(last, "flapping", at, result.detail)
        _alert(monitor, last, result, at)
        return
    incident = Incident(
        monitor_id=monitor.id,
        title=monitor.name,
        status=IncidentStatus.OPEN,
        worst=result.status,
        opened_at=at,
        events=[],
    )
    db.session.add(incident)
    _event(incident, "opened", at, result.detail)
    _alert(monitor, incident, result, at)


def _severity(status: CheckStatus) -> int:
    return {CheckStatus.UP: 0, CheckStatus.DEGRADED: 1, CheckStatus.DOWN: 2}[status]


def _alert(monitor: Monitor, incident: Incident, result: CheckResult, at: datetime) -> None:
    """Through the on-call router, with the incident's key: one incident, one page."""
    down = incident.worst is CheckStatus.DOWN
    priority = Priority(monitor.settings.get("priority", "P1") if down else "P3")
    state = "down" if down else "degraded"
    alerts.raise_alert(
        monitor.alert_key,
        f"{monitor.name}: {state}",
        priority=priority,
        details=f"{result.detail}\n{_supervision_url(monitor)}",
        now=at,
        commit=False,
    )


def _supervision_url(monitor: Monitor) -> str:
    base = (current_app.config.get("BASE_URL") or "").rstrip("/")
    return f"{base}/queue/supervision/{monitor.id}"


def _resolve(monitor: Monitor, incident: Incident, at: datetime, detail: str) -> None:
    incident.status = IncidentStatus.RESOLVED
    incident.resolved_at = at
    _event(incident, "resolved", at, detail)
    alert = alerts.open_alert(monitor.alert_key)
    if alert is not None:
        alerts.resolve(alert, None, via="monitor", commit=False)


def _event(incident: Incident, kind: str, at: datetime, detail: str = "") -> None:
    incident.events.append(IncidentEvent(kind=kind, at=at, detail=(detail or "")[:2000]))


# --- maintenance -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Window:
    monitor_id: int | None
    starts_at: datetime | None
    ends_at: datetime | None
    weekday: int | None
    start_time: time | None
    duration_minutes: int | None
    timezone: str


_windows_cache: tuple[float, str, list[_Window]] | None = None
_windows_lock = threading.Lock()
WINDOWS_CACHE_SECONDS = 5.0  # a new window silences monitors at most 5 s after it is saved


def _windows() -> list[_Window]:
    """Every maintenance window, read at most every few seconds (each probe asks)."""
    global _windows_cache
    database = str(db.engine.url)
    now = monotonic()
    with _windows_lock:
        cached = _windows_cache
    if cached is not None and cached[1] == database and now - cached[0] < WINDOWS_CACHE_SECONDS:
        return cached[2]
    windows = [
        _Window(
            w.monitor_id,
            w.starts_at,
            w.ends_at,
            w.weekday,
            w.start_time,
            w.duration_minutes,
            w.timezone,
        )
        for w in db.session.scalars(select(MaintenanceWindow))
    ]
    with _windows_lock:
        _windows_cache = (now, database, windows)
    return windows


def forget_windows() -> None:
    global _windows_cache
    with _windows_lock:
        _windows_cache = None


def in_maintenance(monitor: Monitor, at: datetime) -> bool:
    return _in_maintenance(monitor.id, at)


def _in_maintenance(monitor_id: int, at: datetime) -> bool:
    return any(
        window_covers(window, at)  # type: ignore[arg-type]
        for window in _windows()
        if window.monitor_id is None or window.monitor_id == monitor_id
    )


def window_covers(window: MaintenanceWindow | _Window, at: datetime) -> bool:
    if window.starts_at is not None and window.ends_at is not None:
        return window.starts_at <= at < window.ends_at
    if window.weekday is None or window.start_time is None or window.duration_minutes is None:
        return False
    local = at.astimezone(ZoneInfo(window.timezone))
    length = timedelta(minutes=window.duration_minutes)
    # The window may have started on an earlier day and still run (22:00 for 4 hours).
    for days_back in range(0, 1 + window.duration_minutes // 1440 + 1):
        day = local.date() - timedelta(days=days_back)
        if day.weekday() != window.weekday:
            continue
        start = datetime.combine(day, window.start_time, tzinfo=local.tzinfo)
        if start <= local < start + length:
            return True
    return False


# --- linking tickets -------------------------------------------------------------------------


# Built once: the portal's banner and every RUN ticket run it, and building it costs more
# than running it.
_PUBLIC_OPEN_INCIDENTS = (
    select(Incident)
    .join(Monitor)
    .where(
        Incident.status == IncidentStatus.OPEN,
        Monitor.service.in_(list(SERVICES)),
        Monitor.kind != MonitorKind.SILENCE,  # one merchant's silence is not public
    )
    .order_by(Incident.opened_at)
)


def public_open_incidents() -> list[Incident]:
    """Open incidents merchants are told about (monitors of a FLOA Pay service)."""
    return list(db.session.scalars(_PUBLIC_OPEN_INCIDENTS))


def link_ticket(incident: Incident, ticket: Ticket, actor: User | None = None) -> bool:
    if ticket in incident.tickets:
        return False
    incident.tickets.append(ticket)
    who = actor.name if actor is not None else "portal"
    _event(incident, "ticket", utcnow(), f"{ticket.reference} ({who})")
    db.session.commit()
    return True


def link_new_run_ticket(ticket: Ticket) -> list[Incident]:
    """A RUN ticket opened during incidents is linked to them (the merchant saw the banner)."""
    linked = [i for i in public_open_incidents() if ticket not in i.tickets]
    for incident in linked:
        incident.tickets.append(ticket)
        _event(incident, "ticket", utcnow(), f"{ticket.reference} (portal)")
    if linked:
        db.session.commit()
    return linked


# --- history ---------------------------------------------------------------------------------


def apply_retention(now: datetime | None = None) -> dict[str, int]:
    """Fold finished hours into hourly aggregates, then drop raw results after 7 days and
    aggregates after a year."""
    now = now or utcnow()
    this_hour = now.replace(minute=0, second=0, microsecond=0)
    folded = 0
    for monitor_id in db.session.scalars(select(Monitor.id)).all():
        last = db.session.scalar(
            select(func.max(MonitorHourly.hour)).where(MonitorHourly.monitor_id == monitor_id)
        )
        since = last + timedelta(hours=1) if last is not None else None
        query = select(MonitorResult).where(
            MonitorResult.monitor_id == monitor_id, MonitorResult.checked_at < this_hour
        )
        if since is not None:
            query = query.where(MonitorResult.checked_at >= since)
        hours: dict[datetime, list[MonitorResult]] = defaultdict(list)
        for row in db.session.scalars(query):
            hours[row.checked_at.replace(minute=0, second=0, microsecond=0)].append(row)
        for hour, rows in sorted(hours.items()):
            p50, p95 = _percentiles([r.latency_ms for r in rows if r.latency_ms is not None])
            db.session.add(
                MonitorHourly(
                    monitor_id=monitor_id,
                    hour=hour,
                    checks=sum(1 for r in rows if not r.in_maintenance),
                    failures=sum(1 for r in rows if _counts_down(r)),
                    latency_p50_ms=p50,
                    latency_p95_ms=p95,
                )
            )
            folded += 1
        db.session.commit()
    raw = db.session.execute(
        delete(MonitorResult).where(MonitorResult.checked_at < now - RAW_RETENTION)
    ).rowcount
    hourly = db.session.execute(
        delete(MonitorHourly).where(MonitorHourly.hour < now - HOURLY_RETENTION)
    ).rowcount
    db.session.commit()
    return {"hours_folded": folded, "raw_deleted": raw or 0, "hourly_deleted": hourly or 0}


def _counts_down(row: MonitorResult) -> bool:
    return row.status is CheckStatus.DOWN and not row.in_maintenance


def _percentiles(values: Sequence[float]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    if len(values) == 1:
        return values[0], values[0]
    cuts = quantiles(values, n=100, method="inclusive")
    return cuts[49], cuts[94]


@dataclass(frozen=True)
class Stats:
    uptime_24h: float | None
    uptime_7d: float | None
    uptime_30d: float | None
    p50_ms: float | None
    p95_ms: float | None


def uptime(monitor_id: int, since: datetime, until: datetime) -> float | None:
    """Share of checks not down in [since, until) (maintenance excluded): raw results where
    they are still kept (the last 7 days), hourly aggregates before."""
    raw_start = max(since, utcnow() - RAW_RETENTION)
    checks = failures = 0
    if raw_start < until:
        checks, failures = db.session.execute(
            select(
                func.count(MonitorResult.id),
                func.count(MonitorResult.id).filter(MonitorResult.status == CheckStatus.DOWN),
            ).where(
                MonitorResult.monitor_id == monitor_id,
                MonitorResult.checked_at >= raw_start,
                MonitorResult.checked_at < until,
                MonitorResult.in_maintenance.is_(False),
            )
        ).one()
    if since < raw_start:
        older = db.session.execute(
            select(func.sum(MonitorHourly.checks), func.sum(MonitorHourly.failures)).where(
                MonitorHourly.monitor_id == monitor_id,
                MonitorHourly.hour >= since,
                MonitorHourly.hour < min(raw_start, until),
            )
        ).one()
        checks += older[0] or 0
        failures += older[1] or 0
    return None if not checks else 100.0 * (checks - failures) / checks


def uptime_of(monitors: Sequence[Monitor], since: datetime, now: datetime) -> float | None:
    """A service's uptime: that of its worst monitor."""
    values = [uptime(m.id, since, now) for m in monitors]
    known = [value for value in values if value is not None]
    return min(known) if known else None


def stats(monitor: Monitor, now: datetime | None = None) -> Stats:
    now = now or utcnow()
    latencies = db.session.scalars(
        select(MonitorResult.latency_ms).where(
            MonitorResult.monitor_id == monitor.id,
            MonitorResult.checked_at >= now - timedelta(hours=24),
            MonitorResult.latency_ms.is_not(None),
        )
    ).all()
    p50, p95 = _percentiles([value for value in latencies if value is not None])
    return Stats(
        uptime(monitor.id, now - timedelta(hours=24), now),
        uptime(monitor.id, now - timedelta(days=7), now),
        uptime(monitor.id, now - timedelta(days=30), now),
        p50,
        p95,
    )


@dataclass(frozen=True)
class Bucket:
    start: datetime
    status: CheckStatus | None  # the worst in the bucket; None when nothing was checked
    latency_ms: float | None  # the mean


def last_day(monitor: Monitor, now: datetime | None = None, minutes: int = 15) -> list[Bucket]:
    """The last 24 hours in buckets, for the chart on the supervision page."""
    now = now or utcnow()
    start = now - timedelta(hours=24)
    rows = db.session.execute(
        select(MonitorResult.checked_at, MonitorResult.status, MonitorResult.latency_ms).where(
            MonitorResult.monitor_id == monitor.id, MonitorResult.checked_at >= start
        )
    ).all()
    size = timedelta(minutes=minutes)
    count = int(timedelta(hours=24) / size)
    grouped: list[list[tuple[CheckStatus, float | None]]] = [[] for _ in range(count)]
    for checked_at, status, latency in rows:
        index = min(count - 1, int((checked_at - start) / size))
        grouped[index].append((status, latency))
    buckets = []
    for index, items in enumerate(grouped):
        latencies = [latency for _, latency in items if latency is not None]
        buckets.append(
            Bucket(
                start + index * size,
                max((status for status, _ in items), key=_severity) if items else None,
                sum(latencies) / len(latencies) if latencies else None,
            )
        )
    return buckets


@dataclass(frozen=True)
class Day:
    day: datetime
    uptime: float | None


def daily_uptime(
    monitor_ids: Sequence[int], days: int = 90, now: datetime | None = None
) -> list[Day]:
    """Uptime per day over `days` for a group of monitors (a service on the status page): each
    day's worst monitor, counted as `uptime` counts (aggregates before the raw results' cutoff,
    raw results after it) but in two queries rather than two per monitor and day."""
    now = now or utcnow()
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    one_day = timedelta(days=1)
    starts = [today - timedelta(days=offset) for offset in range(days - 1, -1, -1)]
    cutoff = max(starts[0], utcnow() - RAW_RETENTION)
    counts: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0])  # checks, failures
    if monitor_ids:
        hourly = db.session.execute(
            select(
                MonitorHourly.monitor_id,
                MonitorHourly.hour,
                MonitorHourly.checks,
                MonitorHourly.failures,
            ).where(
                MonitorHourly.monitor_id.in_(monitor_ids),
                MonitorHourly.hour >= starts[0],
                MonitorHourly.hour < cutoff,
            )
        ).all()
        for monitor_id, hour, checks, failures in hourly:
            index = (hour - starts[0]) // one_day
            if 0 <= index < days:
                counts[(monitor_id, index)][0] += checks
                counts[(monitor_id, index)][1] += failures
        raw_days = [i for i, start in enumerate(starts) if start + one_day > cutoff]
        columns = []
        for i in raw_days:
            inside = (MonitorResult.checked_at >= max(starts[i], cutoff)) & (
                MonitorResult.checked_at < min(starts[i] + one_day, now)
            )
            columns += [
                func.count(MonitorResult.id).filter(inside),
                func.count(MonitorResult.id).filter(
                    inside & (MonitorResult.status == CheckStatus.DOWN)
                ),
            ]
        if columns:
            raw = db.session.execute(
                select(MonitorResult.monitor_id, *columns)
                .where(
                    MonitorResult.monitor_id.in_(monitor_ids),
                    MonitorResult.in_maintenance.is_(False),
                    MonitorResult.checked_at >= cutoff,
                    MonitorResult.checked_at < now,
                )
                .group_by(MonitorResult.monitor_id)
            ).all()
            for monitor_id, *values in raw:
                for position, i in enumerate(raw_days):
                    counts[(monitor_id, i)][0] += values[2 * position]
                    counts[(monitor_id, i)][1] += values[2 * position + 1]
    result = []
    for index, start in enumerate(starts):
        known = [
            100.0 * (checks - failures) / checks
            for monitor_id in monitor_ids
            for checks, failures in [counts.get((monitor_id, index), [0, 0])]
            if checks
        ]
        result.append(Day(start, min(known) if known else None))
    return result


# --- managing monitors -----------------------------------------------------------------------


def _require_admin(actor: User | None) -> None:
    if actor is not None and not actor.is_admin:
        raise ServiceError(_l("Only administrators manage monitors."))


@dataclass
class MonitorInput:
    name: str
    kind: str
    service: str
    target: str = ""
    interval_seconds: int = 60
    failures_to_open: int = 3
    successes_to_close: int = 2
    failure_ratio: float = 0.0
    window: int = 10
    merchant_id: int | None = None
    settings: dict[str, Any] | None = None
    paused: bool = False


def save_monitor(
    actor: User | None, data: MonitorInput, existing: Monitor | None = None
) -> Monitor:
    _require_admin(actor)
    name = " ".join((data.name or "").split())
    if not name or len(name) > 120:
        raise ServiceError(_l("A monitor needs a name of at most 120 characters."), field="name")
    other = db.session.scalar(select(Monitor).where(Monitor.name == name))
    if other is not None and other is not existing:
        raise ServiceError(_l("Another monitor already has this name."), field="name")
    try:
        kind = MonitorKind(data.kind)
    except ValueError:
        raise ServiceError(_l("Unknown kind of monitor."), field="kind") from None
    if data.service not in SERVICES:
        raise ServiceError(_l("Unknown service."), field="service")
    target = (data.target or "").strip()
    if kind in (MonitorKind.HTTP, MonitorKind.SYNTHETIC) and not target.startswith(
        ("http://", "https://")
    ):
        raise ServiceError(_l("The target must be an http:// or https:// address."), field="target")
    if not 10 <= data.interval_seconds <= 86400:
        raise ServiceError(
            _l("Check between every 10 seconds and once a day."), field="interval_seconds"
        )
    if not 1 <= data.failures_to_open <= 20 or not 1 <= data.successes_to_close <= 20:
        raise ServiceError(_l("Between 1 and 20 checks."), field="failures_to_open")
    if not 0 <= data.failure_ratio <= 1 or not 2 <= data.window <= 100:
        raise ServiceError(
            _l("A ratio between 0 and 1 over 2 to 100 checks."), field="failure_ratio"
        )
    if kind is MonitorKind.SILENCE and data.merchant_id is None:
        raise ServiceError(_l("Choose the merchant to watch."), field="merchant_id")
    monitor = existing or Monitor(next_run_at=utcnow())
    monitor.name = name
    monitor.kind = kind
    monitor.service = data.service
    monitor.target = target
    monitor.interval_seconds = data.interval_seconds
    monitor.failures_to_open = data.failures_to_open
    monitor.successes_to_close = data.successes_to_close
    monitor.failure_ratio = data.failure_ratio
    monitor.window = data.window
    monitor.merchant_id = data.merchant_id
    monitor.settings = dict(data.settings or {})
    if existing is None or existing.paused != data.paused:
        monitor.next_run_at = utcnow()  # a new or resumed monitor checks at once
    monitor.paused = data.paused
    monitor.updated_at = utcnow()
    db.session.add(monitor)
    db.session.commit()
    return monitor


def set_paused(actor: User | None, monitor: Monitor, paused: bool) -> None:
    _require_admin(actor)
    monitor.paused = paused
    monitor.updated_at = utcnow()
    if not paused:
        monitor.next_run_at = utcnow()
    db.session.commit()


def delete_monitor(actor: User | None, monitor: Monitor) -> None:
    _require_admin(actor)
    # Its alert, if open, is resolved: nobody should keep being paged for a deleted monitor.
    alert = alerts.open_alert(monitor.alert_key)
    if alert is not None:
        alerts.resolve(alert, None, via="monitor", commit=False)
    db.session.delete(monitor)
    db.session.commit()


def find(name_or_id: str) -> Monitor | None:
    if name_or_id.isdigit():
        found = db.session.get(Monitor, int(name_or_id))
        if found is not None:
            return found
    return db.session.scalar(select(Monitor).where(Monitor.name == name_or_id))


def all_monitors() -> list[Monitor]:
    return list(db.session.scalars(select(Monitor).order_by(Monitor.service, Monitor.name)))


def recent_incidents(limit: int = 50, since: datetime | None = None) -> list[Incident]:
    query = select(Incident).order_by(Incident.opened_at.desc()).limit(limit)
    if since is not None:
        query = query.where(Incident.opened_at >= since)
    return list(db.session.scalars(query))


# --- maintenance windows ---------------------------------------------------------------------


def save_maintenance(
    actor: User | None,
    *,
    monitor: Monitor | None,
    reason: str,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    weekday: int | None = None,
    start_time: time | None = None,
    duration_minutes: int | None = None,
    timezone: str = "Europe/Paris",
) -> MaintenanceWindow:
    """A one-off window (starts_at, ends_at) or a weekly one (weekday, start_time, duration)."""
    _require_admin(actor)
    one_off = starts_at is not None or ends_at is not None
    if one_off:
        if starts_at is None or ends_at is None or ends_at <= starts_at:
            raise ServiceError(_l("The window must end after it starts."), field="ends_at")
    else:
        if weekday is None or not 0 <= weekday <= 6 or start_time is None:
            raise ServiceError(_l("Choose a day and a time."), field="weekday")
        if duration_minutes is None or not 1 <= duration_minutes <= 7 * 1440:
            raise ServiceError(
                _l("A weekly window lasts from 1 minute to 7 days."), field="duration_minutes"
            )
    window = MaintenanceWindow(
        monitor_id=monitor.id if monitor is not None else None,
        reason=" ".join((reason or "").split())[:200],
        starts_at=starts_at if one_off else None,
        ends_at=ends_at if one_off else None,
        weekday=None if one_off else weekday,
        start_time=None if one_off else start_time,
        duration_minutes=None if one_off else duration_minutes,
        timezone=timezone,
    )
    db.session.add(window)
    db.session.commit()
    forget_windows()
    return window


def delete_maintenance(actor: User | None, window: MaintenanceWindow) -> None:
    _require_admin(actor)
    db.session.delete(window)
    db.session.commit()
    forget_windows()


def maintenance_windows() -> list[MaintenanceWindow]:
    return list(db.session.scalars(select(MaintenanceWindow).order_by(MaintenanceWindow.id)))
