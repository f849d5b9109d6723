"""Service levels: the days the team is closed, SLA targets, and each ticket's running clocks."""

from __future__ import annotations

import enum
from datetime import date, datetime, timedelta

from sqlalchemy import Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from supportit.db import UTCDateTime, db, utcnow
from supportit.models._types import enum_column
from supportit.models.ticket import Category, Priority, Ticket
from supportit.models.user import User


class ClosedDay(db.Model):
    """A day the team does not work beyond public holidays (a bridge day, a team event)."""

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    reason: Mapped[str] = mapped_column(String(200))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    created_by: Mapped[User | None] = relationship()


class SlaPolicy(db.Model):
    """An admin's target for one category and priority; the built-in defaults apply otherwise."""

    id: Mapped[int] = mapped_column(primary_key=True)
    category: Mapped[Category] = mapped_column(enum_column(Category, "sla_category"))
    priority: Mapped[Priority] = mapped_column(enum_column(Priority, "sla_priority"))
    first_response_minutes: Mapped[int]
    resolution_minutes: Mapped[int]
    # Production does not stop at 18:00: such targets count every minute, not business ones.
    wall_clock: Mapped[bool] = mapped_column(default=False)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (UniqueConstraint("category", "priority"),)


class SlaKind(enum.StrEnum):
    FIRST_RESPONSE = "first_response"
    RESOLUTION = "resolution"


class SlaClock(db.Model):
    """One target of one ticket, as consumed time plus the instant it last started running.

    Kept this way, pausing, resuming and a change of target are exact in business time, and the
    due instant is derived (and stored for sorting) only while the clock runs.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"))
    kind: Mapped[SlaKind] = mapped_column(enum_column(SlaKind, "sla_kind"))
    target_minutes: Mapped[int]
    wall_clock: Mapped[bool] = mapped_column(default=False)
    consumed_seconds: Mapped[int] = mapped_column(default=0)
    running_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    warn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    met_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    ticket: Mapped[Ticket] = relationship(back_populates="sla_clocks")

    __table_args__ = (
        UniqueConstraint("ticket_id", "kind"),
        Index("ix_sla_clock_due_at", "due_at"),
        Index("ix_sla_clock_warn_at", "warn_at"),
    )

    @property
    def target(self) -> timedelta:
        return timedelta(minutes=self.target_minutes)

    @property
    def consumed(self) -> timedelta:
        return timedelta(seconds=self.consumed_seconds)

    @property
    def running(self) -> bool:
        return self.running_since is not None
