"""On-call (astreinte): rotations in layers, their members, overrides and contact methods."""

from __future__ import annotations

import enum
from datetime import date, datetime, time

from sqlalchemy import Date, ForeignKey, String, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from supportit.db import UTCDateTime, db, utcnow
from supportit.models._types import enum_column
from supportit.models.user import User


class OnCallRotation(db.Model):
    """Members take turns, handing over at a local wall-clock instant every `period_days`.

    The hand-off is stored as a local date and time, not a UTC instant: "Monday 09:00 in Paris"
    stays Monday 09:00 across DST changes, which a UTC anchor plus 7 x 24 h would not.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    layer: Mapped[int] = mapped_column(default=1)  # 1 primary, 2 secondary, ...
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Paris")
    start_date: Mapped[date] = mapped_column(Date)  # the first hand-off's local date
    handoff_time: Mapped[time] = mapped_column(Time, default=time(9, 0))
    period_days: Mapped[int] = mapped_column(default=7)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    members: Mapped[list[OnCallMember]] = relationship(
        back_populates="rotation", order_by="OnCallMember.position", cascade="all, delete-orphan"
    )
    overrides: Mapped[list[OnCallOverride]] = relationship(
        back_populates="rotation", order_by="OnCallOverride.starts_at", cascade="all, delete-orphan"
    )


class OnCallMember(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    rotation_id: Mapped[int] = mapped_column(ForeignKey("on_call_rotation.id"))
    position: Mapped[int]
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))

    rotation: Mapped[OnCallRotation] = relationship(back_populates="members")
    user: Mapped[User] = relationship()

    __table_args__ = (UniqueConstraint("rotation_id", "position"),)


class OnCallOverride(db.Model):
    """Someone covers part of a rotation (a swap is two overrides)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    rotation_id: Mapped[int] = mapped_column(ForeignKey("on_call_rotation.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(200), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    rotation: Mapped[OnCallRotation] = relationship(back_populates="overrides")
    user: Mapped[User] = relationship(foreign_keys=[user_id])


class ContactKind(enum.StrEnum):
    SMS = "sms"
    VOICE = "voice"
    MAIL = "mail"
    WEBHOOK = "webhook"


class ContactMethod(db.Model):
    """How to reach an engineer when paged, tried in position order."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    kind: Mapped[ContactKind] = mapped_column(enum_column(ContactKind, "contact_kind"))
    address: Mapped[str] = mapped_column(String(500))  # phone in E.164, mail, or URL
    position: Mapped[int] = mapped_column(default=0)

    user: Mapped[User] = relationship()


class SchedulerLease(db.Model):
    """Which scheduler process runs the periodic jobs, until when (see supportit.scheduler)."""

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class JobRun(db.Model):
    """The last run of each scheduled job: which process ran it, when, and how it went. The
    metrics read the scheduler's lag here, and an operator sees which scheduler leads."""

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ok: Mapped[bool] = mapped_column(default=True)
    error: Mapped[str | None] = mapped_column(String(500))
    runs: Mapped[int] = mapped_column(default=0)
