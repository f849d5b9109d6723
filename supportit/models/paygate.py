"""What Paygate sent us: notifications (URLNotify) received for each merchant."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from supportit.db import UTCDateTime, db, utcnow
from supportit.models._types import enum_column
from supportit.models.merchant import Merchant


class NotificationState(enum.StrEnum):
    ACCEPTED = "accepted"  # decrypted and its MAC verified
    REJECTED = "rejected"  # kept with the reason: bad MAC, undecryptable, unknown MerchantID...


class PaygateNotification(db.Model):
    """One URLNotify callback. Paygate retries until it gets a 200 (about 8 times over 21 hours),
    so an accepted notification is stored once per PayID + Status + Code and its retries only
    counted; a rejected one is kept every time, with the body as received, for the agent."""

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchant.id", ondelete="CASCADE"))
    state: Mapped[NotificationState] = mapped_column(
        enum_column(NotificationState, "paygate_notification_state")
    )
    reason_code: Mapped[str | None] = mapped_column(String(40))
    reason: Mapped[str | None] = mapped_column(Text)
    mid: Mapped[str | None] = mapped_column(String(30))
    pay_id: Mapped[str | None] = mapped_column(String(64))
    trans_id: Mapped[str | None] = mapped_column(String(64))
    ref_nr: Mapped[str | None] = mapped_column(String(64))
    paygate_status: Mapped[str | None] = mapped_column(String(50))
    code: Mapped[str | None] = mapped_column(String(8))
    # Decrypted parameters, MAC included (it is a signature, not a secret).
    params: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    body: Mapped[str] = mapped_column(Text, default="")  # as received, cut at 64 KB
    remote_addr: Mapped[str | None] = mapped_column(String(64))
    deliveries: Mapped[int] = mapped_column(default=1)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    merchant: Mapped[Merchant] = relationship()

    __table_args__ = (
        # Idempotency: rejected rows leave these NULL, and NULLs never collide.
        db.UniqueConstraint(
            "merchant_id", "pay_id", "paygate_status", "code", name="uq_paygate_notification_once"
        ),
        Index("ix_paygate_notification_merchant_received", "merchant_id", "received_at"),
        Index("ix_paygate_notification_trans_id", "trans_id"),
        Index("ix_paygate_notification_pay_id", "pay_id"),
        Index("ix_paygate_notification_ref_nr", "ref_nr"),
    )
