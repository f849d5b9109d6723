"""Mail in and out: every inbound message as received, and the outbox of mail to send."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ColumnElement, ForeignKey, Index, String, Text, and_, or_
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from supportit.db import UTCDateTime, db, utcnow
from supportit.models._types import enum_column
from supportit.models.ticket import Message, Ticket
from supportit.models.user import User


class InboundStatus(enum.StrEnum):
    RECEIVED = "received"  # stored, not yet processed
    NEW_TICKET = "new_ticket"
    REPLY = "reply"
    DUPLICATE = "duplicate"  # same bytes or same Message-ID seen before
    AUTO_REPLY = "auto_reply"  # out-of-office and the like: kept, never a ticket
    BOUNCE = "bounce"  # a delivery status notification about one of our mails
    QUARANTINED = "quarantined"  # could not be understood or refused: waits for an agent
    DISCARDED = "discarded"  # an agent decided it is not a ticket


class InboundReason(enum.StrEnum):
    """Why intake filed a mail the way it did; shown to agents in their language."""

    OWN_NOTIFICATION = "own_notification"  # one of our own notifications came back
    AUTO_REPLY = "auto_reply"  # detail: the header or subject that says so
    BOUNCE = "bounce"  # detail: how many of our sent mails it reports
    BOUNCE_UNKNOWN = "bounce_unknown"  # a delivery report about a mail we never sent
    DUPLICATE = "duplicate"  # detail: the number of the earlier copy
    NO_SENDER = "no_sender"
    RATE_LIMITED = "rate_limited"  # detail: the hourly limit
    STAFF_WITHOUT_TICKET = "staff_without_ticket"
    PROCESSING_FAILED = "processing_failed"  # detail: the error, for the developers


class InboundMail(db.Model):
    """One message as it arrived; the raw bytes live under the instance folder by SHA-256."""

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    size: Mapped[int]
    channel: Mapped[str] = mapped_column(String(8))  # smtp, imap, eml
    envelope_from: Mapped[str | None] = mapped_column(String(998))
    envelope_to: Mapped[list[str]] = mapped_column(JSON, default=list)
    message_id: Mapped[str | None] = mapped_column(String(998), index=True)
    from_address: Mapped[str | None] = mapped_column(String(254))
    subject: Mapped[str | None] = mapped_column(String(998))
    status: Mapped[InboundStatus] = mapped_column(
        enum_column(InboundStatus, "inbound_status"), default=InboundStatus.RECEIVED
    )
    reason_code: Mapped[InboundReason | None] = mapped_column(
        enum_column(InboundReason, "inbound_reason")
    )
    # Facts the reason quotes (a header, a number, an error): data, not sentences to translate.
    reason_detail: Mapped[str | None] = mapped_column(Text)
    # The agent who released or discarded it from quarantine.
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"), index=True)
    message_id_fk: Mapped[int | None] = mapped_column(ForeignKey("message.id"))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    ticket: Mapped[Ticket | None] = relationship()
    message: Mapped[Message | None] = relationship()
    handled_by: Mapped[User | None] = relationship()

    # The hourly limit counts a sender's mails of the last hour for each mail filed: by address
    # alone, it read every mail the address ever sent, a merchant's years of mail.
    __table_args__ = (
        Index("ix_inbound_mail_from_address_received", "from_address", "received_at"),
    )


class OutboundStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"  # gave up after every retry: shown to agents, never silently lost
    BOUNCED = "bounced"  # sent, then a delivery status notification came back


class OutboundMail(db.Model):
    """A mail to send, written in the same transaction as the change that caused it."""

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # ack, reply, resolved, closed
    to_addrs: Mapped[list[str]] = mapped_column(JSON)
    cc_addrs: Mapped[list[str]] = mapped_column(JSON, default=list)
    subject: Mapped[str] = mapped_column(String(998))
    message_id: Mapped[str] = mapped_column(String(998), unique=True)
    in_reply_to: Mapped[str | None] = mapped_column(String(998))
    references_header: Mapped[str | None] = mapped_column(Text)
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    automatic: Mapped[bool] = mapped_column(default=False)
    status: Mapped[OutboundStatus] = mapped_column(
        enum_column(OutboundStatus, "outbound_status"), default=OutboundStatus.PENDING, index=True
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    ticket: Mapped[Ticket | None] = relationship()


class MailboxStatus(db.Model):
    """How fetching from one mailbox went last time, so silence is never mistaken for calm."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)  # user@host/folder
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    fetched_total: Mapped[int] = mapped_column(default=0)

    @hybrid_property
    def failing(self) -> bool:
        """The last fetch failed (and none succeeded since)."""
        return self.last_error_at is not None and (
            self.last_success_at is None or self.last_error_at > self.last_success_at
        )

    @failing.inplace.expression
    @classmethod
    def _failing_expression(cls) -> ColumnElement[bool]:
        return and_(
            cls.last_error_at.is_not(None),
            or_(cls.last_success_at.is_(None), cls.last_error_at > cls.last_success_at),
        )
