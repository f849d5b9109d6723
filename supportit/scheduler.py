"""The scheduler process (`supportit monitors run`): periodic jobs under a database lease.

Several scheduler processes may run for safety; only the one holding the lease runs the jobs,
so no warning, probe or page fires twice. The lease is a row renewed by a conditional UPDATE,
which works the same on SQLite and PostgreSQL; a holder that dies loses it when it expires.
Jobs compute everything from stored state and the clock: a restart loses nothing.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from supportit.db import db, utcnow
from supportit.models import SchedulerLease

log = logging.getLogger(__name__)

LEASE_NAME = "scheduler"
LEASE_TTL = timedelta(seconds=90)


@dataclass(frozen=True)
class Job:
    name: str
    seconds: int
    run: Callable[[], object]


def _sla_check() -> object:
    from supportit.services import sla

    return sla.check()


def _escalate() -> object:
    from supportit.services import alerts

    return alerts.escalate_due()


# Escalation every 15 s: a step is due at most 15 s late, which no engineer notices.
JOBS = [Job("sla-check", 60, _sla_check), Job("alerts-escalate", 15, _escalate)]


def holder_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def acquire(holder: str, name: str = LEASE_NAME, ttl: timedelta = LEASE_TTL) -> bool:
    """Take or renew the lease; True while `holder` has it."""
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


def run_due_jobs(app: Flask, holder: str, jobs: list[Job] = JOBS) -> list[str]:
    """One pass: run every job if this process holds the lease. Returns the jobs run."""
    ran = []
    with app.app_context():
        try:
            if not acquire(holder):
                return ran
            for job in jobs:
                try:
                    job.run()
                    ran.append(job.name)
                except Exception:  # one failing job must not stop the others
                    db.session.rollback()
                    log.exception("scheduled job %s failed", job.name)
        finally:
            db.session.remove()
    return ran


def serve_forever(app: Flask) -> None:
    holder = holder_id()
    scheduler = BlockingScheduler(timezone="UTC")
    for job in JOBS:

        def tick(job: Job = job) -> None:
            run_due_jobs(app, holder, [job])

        # coalesce + max_instances=1: a slow run is never stacked, missed runs collapse to one.
        scheduler.add_job(
            tick, "interval", seconds=job.seconds, id=job.name, coalesce=True, max_instances=1
        )
    log.info("scheduler %s started with %d job(s)", holder, len(JOBS))
    scheduler.start()
