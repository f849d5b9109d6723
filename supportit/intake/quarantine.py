"""What agents do with quarantined mail: make it a ticket, attach it to one, or discard it."""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from supportit.db import db
from supportit.intake import pipeline, senders, threading
from supportit.intake.parse import parse
from supportit.models import Category, InboundMail, InboundStatus, MessageSource, Ticket, User
from supportit.services import tickets
from supportit.services.errors import ServiceError
from supportit.services.tickets import MailOrigin, NewTicket


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


def release_as_ticket(record: InboundMail, actor: User) -> Ticket:
    """An agent decides a quarantined mail is a request after all: it becomes a new ticket."""
    _require_quarantined(record)
    mail = parse(pipeline.raw_bytes(record))
    sender = senders.identify(mail.from_address) if mail.from_address else senders.UNKNOWN
    uploads, refused = pipeline.mail_uploads(mail)
    ticket = tickets.open_ticket(
        sender.merchant,
        sender.user if sender.user and not sender.user.is_staff else None,
        NewTicket(
            subject=threading.clean_subject(mail.subject) or "(no subject)",
            category=Category(current_app.config["MAIL_DEFAULT_CATEGORY"]),
            body=pipeline.mail_body(mail, refused),
            uploads=uploads,
            source=MessageSource.EMAIL,
            requester_email=mail.from_address if not sender.user else None,
            flag=sender.flag,
            mail=MailOrigin(message_id=mail.message_id, html=mail.html),
        ),
    )
    tickets.reply(ticket, actor, f"Released from quarantine ({record.reason}).", internal=True)
    pipeline.settle(
        record,
        InboundStatus.NEW_TICKET,
        record.reason,
        ticket_id=ticket.id,
        message_id_fk=ticket.messages[0].id,
    )
    return ticket


def attach_to_ticket(record: InboundMail, actor: User, ticket: Ticket) -> None:
    """An agent adds a quarantined mail to an existing ticket, as a message from its sender."""
    _require_quarantined(record)
    mail = parse(pipeline.raw_bytes(record))
    uploads, refused = pipeline.mail_uploads(mail)
    sender = senders.identify(mail.from_address) if mail.from_address else senders.UNKNOWN
    author = sender.user if sender.user and sender.user.merchant_id == ticket.merchant_id else None
    message = tickets.reply(
        ticket,
        author,
        pipeline.mail_body(mail, refused),
        uploads=uploads,
        source=MessageSource.EMAIL,
        author_email=None if author else mail.from_address,
        mail=MailOrigin(message_id=mail.message_id, html=mail.html),
    )
    tickets.reply(ticket, actor, f"Mail attached from quarantine ({record.reason}).", internal=True)
    pipeline.settle(
        record, InboundStatus.REPLY, record.reason, ticket_id=ticket.id, message_id_fk=message.id
    )


def discard(record: InboundMail, actor: User) -> None:
    """Not a request: kept for the record, out of the quarantine list."""
    _require_quarantined(record)
    pipeline.settle(
        record, InboundStatus.DISCARDED, f"{record.reason} — discarded by {actor.email}"
    )
