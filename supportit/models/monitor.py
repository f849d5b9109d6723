"""Run supervision: monitors, their check results, incidents and maintenance windows.

Monitors are data: admins add, change and pause them while the scheduler runs, and it picks the
change up at the next tick. Incident state lives here too, so a restarted scheduler neither pages
again for an open incident nor forgets to announce that it is over.
"""

from __future__ import annotations

import enum
from datetime import datetime, time
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Index, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from supportit.db import UTCDateTime, db, utcnow
from supportit.models._types import enum_column
from supportit.models.merchant import Merchant
from supportit.models.ticket import Ticket


class MonitorKind(enum.StrEnum):
    HTTP = "http"  # a Paygate endpoint (or any URL): status, latency, body text, certificate
    SYNTHETIC = "synthetic"  # an encrypted server-to-server request with recette credentials
    NOTIFICATION = "notification"  # the synthetic transaction's URLNotify arrives in time
    SILENCE = "silence"  # a production merchant's notifications stop for longer than usual
    DOCLINKS = "doclinks"  # the documentation links answer 200


class CheckStatus(enum.StrEnum):
    UP = "up"
    DEGRADED = "degraded"  # works, but slow, or a certificate about to expire
    DOWN = "down"


class Monitor(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[MonitorKind] = mapped_column(enum_column(MonitorKind, "monitor_kind"))
    # The FLOA Pay service it watches, as merchants read it on the status page.
    service: Mapped[str] = mapped_column(String(40))
    target: Mapped[str] = mapped_column(String(500), default="")
    merchant_id: Mapped[int | None] = mapped_column(ForeignKey("merchant.id", ondelete="CASCADE"))
    # Kind-specific settings (timeout, retries, expected text, keys' MerchantID, deadline...).
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    interval_seconds: Mapped[int] = mapped_column(default=60)
    failures_to_open: Mapped[int] = mapped_column(default=3)
    successes_to_close: Mapped[int] = mapped_column(default=2)
    # Also open when this share of the last `window` checks failed (0 = only consecutive ones).
    failure_ratio: Mapped[float] = mapped_column(default=0.0)
    window: Mapped[int] = mapped_column(default=10)
    paused: Mapped[bool] = mapped_column(default=False)
    next_run_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    last_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    state: Mapped[CheckStatus | None] = mapped_column(enum_column(CheckStatus, "monitor_state"))
    consecutive_failures: Mapped[int] = mapped_column(default=0)
    consecutive_successes: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    merchant: Mapped[Merchant | None] = relationship()

    @property
    def alert_key(self) -> str:
        return f"monitor:{self.id}"

    def __repr__(self) -> str:
        return f"<Monitor {self.id} {self.name!r}>"


class MonitorResult(db.Model):
    """One check, kept raw for 7 days (then only in the hourly aggregates)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    monitor_id: Mapped[int] = mapped_column(ForeignKey("monitor.id", ondelete="CASCADE"))
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[CheckStatus] = mapped_column(enum_column(CheckStatus, "monitor_result_status"))
    latency_ms: Mapped[float | None]
    detail: Mapped[str] = mapped_column(String(500), default="")
    # How late the check started after it was due: the scheduler's own health.
    lag_ms: Mapped[float | None]
    in_maintenance: Mapped[bool] = mapped_column(default=False)

    __table_args__ = (Index("ix_monitor_result_monitor_checked", "monitor_id", "checked_at"),)


class MonitorHourly(db.Model):
    """An hour of one monitor's checks, kept a year: uptime and latency percentiles."""

    monitor_id: Mapped[int] = mapped_column(
        ForeignKey("monitor.id", ondelete="CASCADE"), primary_key=True
    )
    hour: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    checks: Mapped[int]
    failures: Mapped[int]  # down results outside maintenance
    latency_p50_ms: Mapped[float | None]
    latency_p95_ms: Mapped[float | None]


class IncidentStatus(enum.StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


incident_ticket = Table(
    "incident_ticket",
    db.metadata,
    Column("incident_id", ForeignKey("incident.id", ondelete="CASCADE"), primary_key=True),
    Column("ticket_id", ForeignKey("ticket.id", ondelete="CASCADE"), primary_key=True),
)


class Incident(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    monitor_id: Mapped[int] = mapped_column(ForeignKey("monitor.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[IncidentStatus] = mapped_column(
        enum_column(IncidentStatus, "incident_status"), default=IncidentStatus.OPEN, index=True
    )
    worst: Mapped[CheckStatus] = mapped_column(enum_column(CheckStatus, "incident_worst"))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Failures that came back before the incident could close: several make it "flapping".
    flaps: Mapped[int] = mapped_column(default=0)

    monitor: Mapped[Monitor] = relationship()
    events: Mapped[list[IncidentEvent]] = relationship(
        back_populates="incident", cascade="all, delete-orphan", order_by="IncidentEvent.id"
    )
    tickets: Mapped[list[Ticket]] = relationship(secondary=incident_ticket)

    @property
    def flapping(self) -> bool:
        return self.flaps >= 3


class IncidentEvent(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # opened, worsened, flapping, reopened, resolved, ticket
    kind: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str] = mapped_column(Text, default="")

    incident: Mapped[Incident] = relationship(back_populates="events")


class MaintenanceWindow(db.Model):
    """A time when failures page nobody: one-off (starts/ends) or weekly (weekday, time, length).

    `monitor_id` None silences every monitor.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    monitor_id: Mapped[int | None] = mapped_column(ForeignKey("monitor.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(String(200), default="")
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    weekday: Mapped[int | None]  # 0 = Monday, for weekly windows
    start_time: Mapped[time | None]
    duration_minutes: Mapped[int | None]
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Paris")

    monitor: Mapped[Monitor | None] = relationship()

    __table_args__ = (
        db.CheckConstraint(
            "(starts_at IS NOT NULL AND ends_at IS NOT NULL) OR "
            "(weekday IS NOT NULL AND start_time IS NOT NULL AND duration_minutes IS NOT NULL)",
            name="one_off_or_weekly",
        ),
    )
