"""The scheduler process (`supportit monitors run`): the periodic jobs of `monitors.JOBS`.

Several scheduler processes may run for failover; only the leader runs jobs, so no warning,
probe or page fires twice. On PostgreSQL the leader holds a session advisory lock on a
connection of its own: if the process dies, the server drops the lock with the connection and a
standby takes over at its next attempt (every 5 s). On SQLite the leader renews a lease row
(conditional UPDATE) that expires 20 s after its last renewal. Jobs compute everything from
stored state and the clock: a restart loses nothing. SIGTERM stops the scheduler cleanly:
running checks finish and record their results, queued ones are dropped.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import threading
import time
from datetime import datetime, timedelta
from types import FrameType

from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask
from sqlalchemy import Connection, or_, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from monitors import JOBS, Job
from supportit.db import db, utcnow
from supportit.models import JobRun, SchedulerLease

__all__ = ["JOBS", "LEASE_TTL", "Job", "Leadership", "acquire", "run_due_jobs", "serve_forever"]

log = logging.getLogger(__name__)

LEASE_NAME = "scheduler"
LEASE_TTL = timedelta(seconds=20)
RETRY_SECONDS = 5.0  # how often a standby tries to become the leader
ADVISORY_KEY = 0x5375_7070  # "Supp": one lock id for SupportIT's scheduler


def holder_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def acquire(holder: str, name: str = LEASE_NAME, ttl: timedelta = LEASE_TTL) -> bool:
    """Take or renew the lease row; True while `holder` has it."""
    now = utcnow()
    taken = db.session.execute(
        update(SchedulerLease)
        .where(
            SchedulerLease.name == name,
            or_(SchedulerLease.holder == holder, SchedulerLease.expires_at < now),
        )
        .values(holder=holder, expires_at=now + ttl)
    ).rowcount
    db.session.commit()
    if taken:
        return True
    if db.session.scalar(select(SchedulerLease).where(SchedulerLease.name == name)) is None:
        try:
            db.session.add(SchedulerLease(name=name, holder=holder, expires_at=now + ttl))
            db.session.commit()
            return True
        except IntegrityError:  # another process created it at the same moment
            db.session.rollback()
    return False


class Leadership:
    """Whether this process is the leader, checked at most every `RETRY_SECONDS`."""

    def __init__(self, app: Flask, holder: str) -> None:
        self.app = app
        self.holder = holder
        self.postgres = app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")
        self._connection: Connection | None = None
        self._leader = False
        self._checked = 0.0
        self._lock = threading.Lock()

    def is_leader(self) -> bool:
        with self._lock:
            if time.monotonic() - self._checked >= RETRY_SECONDS or not self._checked:
                was = self._leader
                self._leader = self._try()
                self._checked = time.monotonic()
                if self._leader != was:
                    log.info(
                        "scheduler %s %s",
                        self.holder,
                        "is now the leader" if self._leader else "is a standby",
                    )
            return self._leader

    def _try(self) -> bool:
        with self.app.app_context():
            if not self.postgres:
                try:
                    return acquire(self.holder)
                finally:
                    db.session.remove()
            try:
                if self._connection is None:
                    connection = db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
                    got = connection.execute(
                        text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_KEY}
                    ).scalar()
                    if not got:
                        connection.close()
                        return False
                    self._connection = connection
                    return True
                self._connection.execute(text("SELECT 1"))  # still connected, so still locked
                return True
            except DBAPIError:
                log.warning("scheduler %s lost its database connection", self.holder)
                self.release()
                return False

    def release(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(DBAPIError):  # already gone: nothing to release
                self._connection.close()
            self._connection = None
        self._leader = False


def run_due_jobs(
    app: Flask, holder: str, jobs: list[Job] = JOBS, leadership: Leadership | None = None
) -> list[str]:
    """One pass: run the jobs if this process is the leader. Returns the jobs run."""
    if leadership is not None and not leadership.is_leader():
        return []
    ran = []
    with app.app_context():
        try:
            if leadership is None and not acquire(holder):
                return ran
            for job in jobs:
                started = utcnow()
                try:
                    job.run()
                    ran.append(job.name)
                    error = None
                except Exception as failure:  # one failing job must not stop the others
                    db.session.rollback()
                    log.exception("scheduled job %s failed", job.name)
                    error = f"{type(failure).__name__}: {failure}"[:500]
                _record_run(job.name, holder, started, error)
        finally:
            db.session.remove()
    return ran


# Jobs that run several times a second are written down at most this often (and at once when
# they fail): the lag metric needs seconds, not every quarter-second tick.
RECORD_EVERY = 5.0
_unrecorded: dict[str, tuple[float, int]] = {}  # job → (last written, runs since)


def _record_run(name: str, holder: str, started: datetime, error: str | None) -> None:
    """Remember the job's last run (metrics: scheduler lag; operators: who leads)."""
    last, pending = _unrecorded.get(name, (0.0, 0))
    pending += 1
    if error is None and time.monotonic() - last < RECORD_EVERY:
        _unrecorded[name] = (last, pending)
        return
    try:
        run = db.session.get(JobRun, name) or JobRun(name=name, runs=0)
        run.holder = holder
        run.started_at = started
        run.finished_at = utcnow()
        run.ok = error is None
        run.error = error
        run.runs += pending
        db.session.add(run)
        db.session.commit()
        _unrecorded[name] = (time.monotonic(), 0)
    except DBAPIError:  # bookkeeping must never fail the jobs themselves
        db.session.rollback()
        _unrecorded[name] = (last, pending)
        log.warning("could not record the run of job %s", name)


def serve_forever(app: Flask, stop: threading.Event | None = None) -> None:
    """Run until SIGTERM or SIGINT (or `stop` is set), then stop cleanly."""
    from supportit.services import monitoring

    holder = holder_id()
    leadership = Leadership(app, holder)
    stop = stop or threading.Event()
    scheduler = BackgroundScheduler(timezone="UTC")
    for job in JOBS:

        def tick(job: Job = job) -> None:
            if not stop.is_set():
                run_due_jobs(app, holder, [job], leadership)

        # coalesce + max_instances=1: a slow run is never stacked, missed runs collapse to one.
        scheduler.add_job(
            tick,
            "interval",
            seconds=job.seconds,
            id=job.name,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=max(1, int(job.seconds)),
        )

    def on_signal(signum: int, frame: FrameType | None) -> None:
        log.info("scheduler %s: signal %d, stopping", holder, signum)
        stop.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
    scheduler.start()
    log.info("scheduler %s started with %d job(s)", holder, len(JOBS))
    leadership.is_leader()
    while not stop.wait(RETRY_SECONDS):
        leadership.is_leader()  # a standby keeps trying even when no job is due
    scheduler.shutdown(wait=True)  # the running job ticks end
    monitoring.shutdown(wait=True)  # the checks in progress record their results
    leadership.release()
    log.info("scheduler %s stopped", holder)
