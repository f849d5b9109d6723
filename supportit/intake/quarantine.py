"""What agents do with quarantined mail: make it a ticket, attach it to one, or discard it."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from supportit.db import db
from supportit.intake import pipeline, senders
from supportit.intake.parse import ParsedMail, parse
from supportit.models import InboundMail, InboundStatus, Ticket, User
from supportit.services import tickets
from supportit.services.errors import ServiceError


def quarantined() -> list[InboundMail]:
    return list(
        db.session.scalars(
            select(InboundMail)
            .where(InboundMail.status == InboundStatus.QUARANTINED)
            .order_by(InboundMail.received_at.desc())
            .limit(200)
        )
    )


def quarantine_count() -> int:
    return db.session.scalar(
        select(func.count(InboundMail.id)).where(InboundMail.status == InboundStatus.QUARANTINED)
    )


def _require_quarantined(record: InboundMail) -> None:
    if record.status is not InboundStatus.QUARANTINED:
        raise ServiceError(_l("This mail has already been handled."))


def _parse_quarantined(record: InboundMail) -> tuple[ParsedMail, senders.Sender]:
    _require_quarantined(record)
    mail = parse(pipeline.raw_bytes(record))
    sender = senders.identify(mail.from_address) if mail.from_address else senders.UNKNOWN
    return mail, sender


def release_as_ticket(record: InboundMail, actor: User) -> Ticket:
    """An agent decides a quarantined mail is a request after all: it becomes a new ticket."""
    mail, sender = _parse_quarantined(record)
    ticket = pipeline.open_ticket_from(mail, sender, flag=sender.flag)
    tickets.reply(ticket, actor, f"Released from quarantine ({record.reason}).", internal=True)
    pipeline.settle(
        record,
        InboundStatus.NEW_TICKET,
        record.reason,
        ticket_id=ticket.id,
        message_id_fk=ticket.messages[0].id,
    )
    return ticket


def attach_to_ticket(record: InboundMail, actor: User, ticket: Ticket) -> InboundMail:
    """An agent adds a quarantined mail to an existing ticket, as a message from its sender.

    Returns the record (the web page tells success from refusal by it)."""
    mail, sender = _parse_quarantined(record)
    author = sender.user if sender.user and sender.user.merchant_id == ticket.merchant_id else None
    message = pipeline.reply_from(mail, ticket, author)
    tickets.reply(ticket, actor, f"Mail attached from quarantine ({record.reason}).", internal=True)
    pipeline.settle(
        record, InboundStatus.REPLY, record.reason, ticket_id=ticket.id, message_id_fk=message.id
    )
    return record


def discard(record: InboundMail, actor: User) -> InboundMail:
    """Not a request: kept for the record, out of the quarantine list. Returns the record."""
    _require_quarantined(record)
    pipeline.settle(
        record, InboundStatus.DISCARDED, f"{record.reason} — discarded by {actor.email}"
    )
    return record
