"""The audit log: who did what sensitive thing, from where. Rows are never updated nor deleted."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from supportit.db import UTCDateTime, db, utcnow
from supportit.models.user import User


class AuditEvent(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    action: Mapped[str] = mapped_column(String(40))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    # Kept as written: a failed login has no account, and an account may be deleted later.
    email: Mapped[str | None] = mapped_column(String(254))
    ip: Mapped[str | None] = mapped_column(String(45))
    target: Mapped[str] = mapped_column(String(200), default="")
    # What changed, never a secret: key changes say which key, not its value.
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    actor: Mapped[User | None] = relationship()

    __table_args__ = (
        # The login throttle counts recent failures by address and by client.
        Index("ix_audit_event_email_at", "email", "at"),
        Index("ix_audit_event_ip_at", "ip", "at"),
    )
