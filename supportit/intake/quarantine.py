"""What agents do with quarantined mail: make it a ticket, attach it to one, or discard it."""

from __future__ import annotations

from flask_babel.speaklater import LazyString
from sqlalchemy import func, select

from supportit import labels
from supportit.db import db, utcnow
from supportit.i18n import lazy_gettext as _l
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
    _handled(record, actor, InboundStatus.NEW_TICKET)
    ticket = pipeline.open_ticket_from(mail, sender, flag=sender.flag, inbound=record)
    tickets.reply(ticket, actor, _note(_l("Released from quarantine"), record), internal=True)
    return ticket


def attach_to_ticket(record: InboundMail, actor: User, ticket: Ticket) -> InboundMail:
    """An agent adds a quarantined mail to an existing ticket, as a message from its sender.

    Returns the record (the web page tells success from refusal by it)."""
    mail, sender = _parse_quarantined(record)
    author = sender.user if sender.user and sender.user.merchant_id == ticket.merchant_id else None
    _handled(record, actor, InboundStatus.REPLY)
    pipeline.reply_from(mail, ticket, author, inbound=record)
    tickets.reply(ticket, actor, _note(_l("Mail added from quarantine"), record), internal=True)
    return record


def discard(record: InboundMail, actor: User) -> InboundMail:
    """Not a request: kept for the record, out of the quarantine list. Returns the record."""
    _require_quarantined(record)
    _handled(record, actor, InboundStatus.DISCARDED)
    db.session.commit()
    return record


def _handled(record: InboundMail, actor: User, status: InboundStatus) -> None:
    # The quarantine reason stays: it tells later why the mail needed a person.
    record.status = status
    record.handled_by = actor
    record.processed_at = utcnow()


def _note(action: LazyString, record: InboundMail) -> str:
    """The internal note left on the ticket, in the acting agent's language."""
    return f"{action} ({labels.inbound_reason(record)})."
