"""Endpoints for the machines that run SupportIT: liveness, readiness and Prometheus metrics.

- `/healthz`: the process answers (a load balancer or systemd watchdog restarts it if not).
- `/readyz`: the database answers and holds the schema this release expects; until then the
  load balancer sends no traffic (503 with the reason, as JSON).
- `/metrics`: Prometheus text format. Allowed with `Authorization: Bearer
  $SUPPORTIT_METRICS_TOKEN` when that is set, else from the machine itself only: monitor names
  carry merchants' names, which merchants must not read.
"""

from __future__ import annotations

import hmac
import os
from datetime import UTC, datetime
from functools import cache
from ipaddress import ip_address

from alembic.script import ScriptDirectory
from flask import Blueprint, Response, abort, current_app, jsonify, request
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError

from supportit.db import db, utcnow
from supportit.models import (
    ACTIVE_STATUSES,
    Alert,
    AlertStatus,
    CheckStatus,
    InboundMail,
    InboundStatus,
    JiraLink,
    JiraState,
    JobRun,
    Monitor,
    Notification,
    NotificationStatus,
    OutboundMail,
    OutboundStatus,
    Ticket,
)

bp = Blueprint("ops", __name__)

STATE_VALUES = {CheckStatus.UP: 0, CheckStatus.DEGRADED: 1, CheckStatus.DOWN: 2}


@bp.route("/healthz")
def healthz():  # type: ignore[no-untyped-def]
    return jsonify(status="ok")


@bp.route("/readyz")
def readyz():  # type: ignore[no-untyped-def]
    checks: dict[str, str] = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except SQLAlchemyError as error:
        db.session.rollback()
        checks["database"] = f"unreachable: {type(getattr(error, 'orig', None) or error).__name__}"
    else:
        checks["schema"] = _schema_check()
    ready = all(value == "ok" for value in checks.values())
    return jsonify(status="ok" if ready else "unavailable", checks=checks), 200 if ready else 503


def _schema_check() -> str:
    expected = _head_revision()
    try:
        current = db.session.scalar(text("SELECT version_num FROM alembic_version"))
    except SQLAlchemyError:
        db.session.rollback()
        current = None
    if current == expected:
        return "ok"
    return (
        f"at {current or 'no revision'}, this release needs {expected}: run `supportit db upgrade`"
    )


@cache
def _head_revision() -> str | None:
    from supportit import PROJECT_ROOT

    return ScriptDirectory(str(PROJECT_ROOT / "migrations")).get_current_head()


@bp.route("/metrics")
def metrics():  # type: ignore[no-untyped-def]
    _authorize_scrape()
    # Latency histograms live in each worker; with several gunicorn workers, prometheus_client
    # adds up the files they write under PROMETHEUS_MULTIPROC_DIR (docs/deploy.md).
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        process_registry = CollectorRegistry()
        MultiProcessCollector(process_registry)
    else:
        process_registry = REGISTRY
    desk = CollectorRegistry()
    desk.register(DeskCollector())
    body = generate_latest(process_registry) + generate_latest(desk)
    return Response(body, mimetype=CONTENT_TYPE_LATEST)


def _authorize_scrape() -> None:
    token = current_app.config.get("METRICS_TOKEN")
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), token.encode()):
            abort(404)
        return
    try:
        local = ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        local = False
    if not local:
        abort(404)


class DeskCollector:
    """The desk's state, read from the database at each scrape: a few aggregate queries."""

    def collect(self):  # type: ignore[no-untyped-def]
        now = utcnow()
        families = []
        try:
            # Gathered before yielding: a database failure halfway gives no partial figures.
            for part in (self._tickets(now), self._outboxes(now), self._scheduler(now)):
                families += list(part)
            families += list(self._monitors())
            ok = 1
        except SQLAlchemyError:
            families, ok = [], 0
        finally:
            db.session.rollback()  # read-only; nothing held open between scrapes
        yield from families
        yield GaugeMetricFamily(
            "supportit_database_up", "1 when the desk's figures could be read.", value=ok
        )

    def _tickets(self, now: datetime):  # type: ignore[no-untyped-def]
        active = GaugeMetricFamily(
            "supportit_tickets_active",
            "Tickets not resolved nor closed, by queue and status.",
            labels=["category", "status"],
        )
        rows = db.session.execute(
            select(Ticket.category, Ticket.status, func.count())
            .where(Ticket.status.in_(ACTIVE_STATUSES))
            .group_by(Ticket.category, Ticket.status)
        )
        for category, status, count in rows:
            active.add_metric([category.value, status.value], count)
        yield active
        active_filter = Ticket.status.in_(ACTIVE_STATUSES)
        unassigned, overdue = db.session.execute(
            select(
                func.count().filter(Ticket.assignee_id.is_(None)),
                func.count().filter(Ticket.sla_due_at < now),
            ).where(active_filter)
        ).one()
        yield GaugeMetricFamily(
            "supportit_tickets_unassigned", "Active tickets nobody owns.", value=unassigned
        )
        yield GaugeMetricFamily(
            "supportit_tickets_overdue",
            "Active tickets past the due time of a running SLA clock.",
            value=overdue,
        )
        quarantined = db.session.scalar(
            select(func.count())
            .select_from(InboundMail)
            .where(InboundMail.status == InboundStatus.QUARANTINED)
        )
        yield GaugeMetricFamily(
            "supportit_mail_quarantined", "Inbound mail waiting for an agent.", value=quarantined
        )
        alerts = db.session.scalar(
            select(func.count()).select_from(Alert).where(Alert.status != AlertStatus.RESOLVED)
        )
        yield GaugeMetricFamily("supportit_alerts_open", "Alerts not resolved.", value=alerts)

    def _outboxes(self, now: datetime):  # type: ignore[no-untyped-def]
        depth = GaugeMetricFamily(
            "supportit_outbox_pending",
            "Deliveries waiting or being sent: mail, pages and notices, Jira issues.",
            labels=["queue"],
        )
        oldest = GaugeMetricFamily(
            "supportit_outbox_oldest_pending_seconds",
            "Age of the oldest delivery still waiting (0 when none waits).",
            labels=["queue"],
        )
        failed = GaugeMetricFamily(
            "supportit_outbox_failed",
            "Deliveries given up after every retry: a person must look.",
            labels=["queue"],
        )
        queues = (
            (
                "mail",
                OutboundMail,
                OutboundMail.status.in_([OutboundStatus.PENDING, OutboundStatus.SENDING]),
                OutboundMail.status == OutboundStatus.FAILED,
            ),
            (
                "notifications",
                Notification,
                Notification.status.in_([NotificationStatus.PENDING, NotificationStatus.SENDING]),
                Notification.status == NotificationStatus.FAILED,
            ),
            (
                "jira",
                JiraLink,
                JiraLink.state == JiraState.PENDING,
                JiraLink.state == JiraState.REFUSED,
            ),
        )
        for name, model, waiting, given_up in queues:
            count, first, lost = db.session.execute(
                select(
                    func.count().filter(waiting),
                    func.min(model.created_at).filter(waiting),
                    func.count().filter(given_up),
                ).select_from(model)
            ).one()
            depth.add_metric([name], count)
            failed.add_metric([name], lost)
            oldest.add_metric([name], _age(first, now))
        yield depth
        yield oldest
        yield failed

    def _scheduler(self, now: datetime):  # type: ignore[no-untyped-def]
        from monitors import JOBS

        interval = {job.name: job.seconds for job in JOBS}
        age = GaugeMetricFamily(
            "supportit_scheduler_job_age_seconds",
            "Time since each scheduled job last finished.",
            labels=["job"],
        )
        ok = GaugeMetricFamily(
            "supportit_scheduler_job_ok",
            "1 when the job's last run succeeded.",
            labels=["job", "holder"],
        )
        lag = 0.0
        for run in db.session.scalars(select(JobRun)):
            seconds = _age(run.finished_at, now)
            age.add_metric([run.name], seconds)
            ok.add_metric([run.name, run.holder], 1 if run.ok else 0)
            lag = max(lag, seconds - interval.get(run.name, 0))
        yield age
        yield ok
        yield GaugeMetricFamily(
            "supportit_scheduler_lag_seconds",
            "How late the most late job is past its interval (0: on time). Alert when it grows: "
            "no scheduler leads.",
            value=max(lag, 0.0),
        )

    def _monitors(self):  # type: ignore[no-untyped-def]
        state = GaugeMetricFamily(
            "supportit_monitor_state",
            "Each active monitor's state: 0 up, 1 degraded, 2 down, -1 not checked yet.",
            labels=["monitor", "service", "kind"],
        )
        for monitor in db.session.scalars(select(Monitor).where(Monitor.paused.is_(False))):
            state.add_metric(
                [monitor.name, monitor.service, monitor.kind.value],
                STATE_VALUES.get(monitor.state, -1) if monitor.state else -1,
            )
        yield state


def _age(instant: datetime | None, now: datetime) -> float:
    if instant is None:
        return 0.0
    if instant.tzinfo is None:  # SQLite gives naive values where the column type is lost
        instant = instant.replace(tzinfo=UTC)
    return max((now - instant).total_seconds(), 0.0)
