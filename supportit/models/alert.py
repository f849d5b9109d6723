"""Alerts (from monitors and urgent tickets), their timeline, escalation and notifications.

An alert is told to the team or pages the on-call engineer; an open alert with the same dedup
key never pages again, it counts one more occurrence. Every notification is a row of the
notification outbox, written in the same transaction as the alert step that caused it.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from supportit.db import UTCDateTime, db, utcnow
from supportit.models._types import enum_column
from supportit.models.ticket import Priority, Ticket
from supportit.models.user import User


class AlertStatus(enum.StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class AlertSource(enum.StrEnum):
    MONITOR = "monitor"
    TICKET = "ticket"


class Alert(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    dedup_key: Mapped[str] = mapped_column(String(200))
    source: Mapped[AlertSource] = mapped_column(enum_column(AlertSource, "alert_source"))
    title: Mapped[str] = mapped_column(String(200))
    details: Mapped[str] = mapped_column(Text, default="")
    priority: Mapped[Priority] = mapped_column(enum_column(Priority, "alert_priority"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"), index=True)
    status: Mapped[AlertStatus] = mapped_column(
        enum_column(AlertStatus, "alert_status"), default=AlertStatus.OPEN, index=True
    )
    route: Mapped[str] = mapped_column(String(10))  # "team" or "oncall", as it is now
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    occurrences: Mapped[int] = mapped_column(default=1)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # The escalation policy as it was when the alert opened: later edits do not change it.
    policy: Mapped[dict[str, Any]] = mapped_column(JSON)
    step: Mapped[int] = mapped_column(default=0)  # index of the last step notified
    cycle: Mapped[int] = mapped_column(default=0)  # how many times the policy was repeated
    next_step_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # Every step and repeat done without an acknowledgement: shown loudly on every agent page.
    exhausted: Mapped[bool] = mapped_column(default=False)

    ticket: Mapped[Ticket | None] = relationship()
    acknowledged_by: Mapped[User | None] = relationship(foreign_keys=[acknowledged_by_id])
    resolved_by: Mapped[User | None] = relationship(foreign_keys=[resolved_by_id])
    events: Mapped[list[AlertEvent]] = relationship(
        back_populates="alert", order_by="AlertEvent.id", cascade="all, delete-orphan"
    )

    __table_args__ = (
        # At most one unresolved alert per key, even when two processes raise it at once.
        Index(
            "uq_alert_open_dedup_key",
            "dedup_key",
            unique=True,
            sqlite_where=text("status != 'resolved'"),
            postgresql_where=text("status != 'resolved'"),
        ),
    )

    @property
    def is_active(self) -> bool:
        return self.status is not AlertStatus.RESOLVED


class AlertEvent(db.Model):
    """One step of an alert's life: created, routed, notified, delivered, escalated, acked..."""

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alert.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    action: Mapped[str] = mapped_column(String(24))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    channel: Mapped[str | None] = mapped_column(String(16))
    recipient: Mapped[str | None] = mapped_column(String(500))
    detail: Mapped[str | None] = mapped_column(Text)

    alert: Mapped[Alert] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()


class NotificationChannel(enum.StrEnum):
    SMS = "sms"
    VOICE = "voice"
    MAIL = "mail"
    WEBHOOK = "webhook"
    CHAT = "chat"


class NotificationStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class Notification(db.Model):
    """A page, a team message or a resolution notice to deliver, with retries."""

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alert.id"), index=True)
    # Which step of the alert sent it, to whom, how: the same key is never written twice, so a
    # step replayed after a crash cannot page anyone twice.
    key: Mapped[str] = mapped_column(String(600))
    kind: Mapped[str] = mapped_column(String(16))  # page, team, resolved
    channel: Mapped[NotificationChannel] = mapped_column(
        enum_column(NotificationChannel, "notification_channel")
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    address: Mapped[str] = mapped_column(String(500))
    subject: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[NotificationStatus] = mapped_column(
        enum_column(NotificationStatus, "notification_status"),
        default=NotificationStatus.PENDING,
        index=True,
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    alert: Mapped[Alert] = relationship()
    user: Mapped[User | None] = relationship()

    __table_args__ = (UniqueConstraint("alert_id", "key"),)


class EscalationPolicy(db.Model):
    """Who is paged after whom. One row, edited by admins; alerts keep a copy of it.

    `steps` is a list of {"notify": "oncall:1" | "oncall:2" | "lead", "after_minutes": N},
    each step N minutes after the previous one without an acknowledgement.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    repeats: Mapped[int] = mapped_column(default=2)
    team_lead_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    team_lead: Mapped[User | None] = relationship(foreign_keys=[team_lead_id])
