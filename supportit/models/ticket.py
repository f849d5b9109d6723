"""Tickets, their conversation, attachments and the append-only event log."""

from __future__ import annotations

import enum
import re
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, ForeignKey, Index, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from supportit.db import UTCDateTime, db, utcnow
from supportit.models._types import enum_column
from supportit.models.merchant import Merchant
from supportit.models.user import User

if TYPE_CHECKING:
    from supportit.models.sla import SlaClock

REFERENCE_PREFIX = "FLOA-"
_REFERENCE_RE = re.compile(r"^\s*FLOA-?(\d{1,9})\s*$", re.IGNORECASE)


class Category(enum.StrEnum):
    """The four queues of the support team (DESIGN.md)."""

    ONBOARDING = "onboarding"
    INTEGRATION = "integration"
    RUN = "run"
    ORDER_MANAGEMENT = "order_management"


class Priority(enum.StrEnum):
    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"


class Status(enum.StrEnum):
    NEW = "new"
    OPEN = "open"
    PENDING_MERCHANT = "pending_merchant"
    RESOLVED = "resolved"
    CLOSED = "closed"

    @property
    def is_active(self) -> bool:
        return self not in (Status.RESOLVED, Status.CLOSED)


ACTIVE_STATUSES = tuple(s for s in Status if s.is_active)


class Environment(enum.StrEnum):
    """The Paygate environment a ticket is about."""

    INTEGRATION = "integration"
    PRODUCTION = "production"


class Product(enum.StrEnum):
    """FLOA Pay products: instalments, deferred and cash payment."""

    X3 = "3X"
    X4 = "4X"
    XD1 = "1XD"
    XC1 = "1XC"
    XD3 = "3XD"
    X10 = "10X"


class MessageSource(enum.StrEnum):
    WEB = "web"
    EMAIL = "email"
    API = "api"


class TicketFlag(enum.StrEnum):
    """Why a ticket needs an agent's eye before anything else (set by mail intake)."""

    SENDER_UNKNOWN = "sender_unknown"  # no merchant recognised: an agent must attach one
    SENDER_UNCONFIRMED = "sender_unconfirmed"  # a merchant's domain, but not a known user
    FOREIGN_REFERENCE = "foreign_reference"  # quoted another merchant's ticket reference
    # Marked urgent outside business hours beyond the merchant's daily cap: nobody was paged.
    URGENT_CAPPED = "urgent_capped"


class Ticket(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    # None only for mail from an unrecognised sender, until an agent attaches a merchant.
    merchant_id: Mapped[int | None] = mapped_column(ForeignKey("merchant.id"), index=True)
    requester_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # Where replies go when the requester has no account (mail from an unknown address).
    requester_email: Mapped[str | None] = mapped_column(String(254))
    # People the merchant copied on its mails: they get our answers too.
    cc_emails: Mapped[list[str]] = mapped_column(JSON, default=list)
    flag: Mapped[TicketFlag | None] = mapped_column(enum_column(TicketFlag, "ticket_flag"))
    # A mail answering a long-closed ticket opens a new one, linked to the old.
    linked_ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    subject: Mapped[str] = mapped_column(String(200))
    category: Mapped[Category] = mapped_column(enum_column(Category, "ticket_category"))
    priority: Mapped[Priority] = mapped_column(
        enum_column(Priority, "ticket_priority"), default=Priority.P3
    )
    status: Mapped[Status] = mapped_column(enum_column(Status, "ticket_status"), default=Status.NEW)
    environment: Mapped[Environment | None] = mapped_column(
        enum_column(Environment, "ticket_environment")
    )
    product: Mapped[Product | None] = mapped_column(enum_column(Product, "ticket_product"))
    # Paygate order references: the merchant's RefNr and TransID, Paygate's PayID.
    ref_nr: Mapped[str | None] = mapped_column(String(64), index=True)
    trans_id: Mapped[str | None] = mapped_column(String(64), index=True)
    pay_id: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The nearest due instant of the ticket's running SLA clocks (None while none runs): kept
    # here so the queue sorts by it with an index instead of a subquery per row.
    sla_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # Optimistic locking: every change bumps it, and an UPDATE made from a stale copy fails
    # instead of silently overwriting what a colleague just did.
    version: Mapped[int] = mapped_column(default=1)

    merchant: Mapped[Merchant | None] = relationship()
    requester: Mapped[User | None] = relationship(foreign_keys=[requester_id])
    linked_ticket: Mapped[Ticket | None] = relationship(remote_side=[id])
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    messages: Mapped[list[Message]] = relationship(
        back_populates="ticket", order_by="Message.id", cascade="all, delete-orphan"
    )
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="ticket", order_by="Attachment.id", cascade="all, delete-orphan"
    )
    events: Mapped[list[TicketEvent]] = relationship(
        back_populates="ticket", order_by="TicketEvent.id", cascade="all, delete-orphan"
    )
    sla_clocks: Mapped[list[SlaClock]] = relationship(
        back_populates="ticket", order_by="SlaClock.id", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (Index("ix_ticket_status_category", "status", "category"),)

    def __repr__(self) -> str:
        return f"<Ticket {self.reference} {self.status}>"

    @property
    def reference(self) -> str:
        return f"{REFERENCE_PREFIX}{self.id:06d}"

    @staticmethod
    def number_from_reference(text: str) -> int | None:
        """`FLOA-000123`, `floa-123` or `123` → 123; anything else → None."""
        text = text.strip()
        if text.isdigit() and len(text) <= 9:
            return int(text)
        match = _REFERENCE_RE.match(text)
        return int(match.group(1)) if match else None

    @property
    def is_active(self) -> bool:
        return self.status.is_active

    def public_messages(self) -> list[Message]:
        return [m for m in self.messages if not m.internal]


class Message(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # The sender's address for mail from someone without an account.
    author_email: Mapped[str | None] = mapped_column(String(254))
    # The Message-ID of the mail this message came in (threading, deduplication).
    email_message_id: Mapped[str | None] = mapped_column(String(998), index=True)
    # A mail's own HTML, sanitised: its original formatting, shown on request.
    original_html: Mapped[str | None] = mapped_column(Text)
    # An internal note is for agents only and never shown to the merchant.
    internal: Mapped[bool] = mapped_column(default=False)
    body_html: Mapped[str] = mapped_column(Text)  # sanitised, safe to render
    body_text: Mapped[str] = mapped_column(Text)  # plain text, for search and mail
    source: Mapped[MessageSource] = mapped_column(
        enum_column(MessageSource, "message_source"), default=MessageSource.WEB
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    ticket: Mapped[Ticket] = relationship(back_populates="messages")
    author: Mapped[User | None] = relationship()
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="message", order_by="Attachment.id"
    )


class Attachment(db.Model):
    """A file stored once under the instance folder, addressed by its SHA-256."""

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("message.id", ondelete="SET NULL"))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(127))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    ticket: Mapped[Ticket] = relationship(back_populates="attachments")
    message: Mapped[Message | None] = relationship(back_populates="attachments")


class TicketEvent(db.Model):
    """One change to a ticket: who changed what, when. Rows are never updated nor deleted."""

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    action: Mapped[str] = mapped_column(String(32))
    old_value: Mapped[str | None] = mapped_column(String(255))
    new_value: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    ticket: Mapped[Ticket] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()


class AppendOnlyError(RuntimeError):
    pass


@event.listens_for(TicketEvent, "before_update")
def _refuse_event_update(mapper: object, connection: object, target: TicketEvent) -> None:
    raise AppendOnlyError("the ticket event log is append-only")
