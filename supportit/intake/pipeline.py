"""From raw bytes to a ticket, a reply, or a quarantined message. Nothing is ever dropped.

The order matters: the raw message reaches the disk first; then it is parsed and decided upon,
and its record is committed together with what it did (a ticket, a reply, a quarantine); any
failure on the way leaves it quarantined with the reason, for an agent.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import PurePath

from flask import current_app
from sqlalchemy import bindparam, func, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm.exc import StaleDataError

from supportit.db import db, utcnow
from supportit.intake import senders, threading
from supportit.intake.parse import ParsedMail, parse
from supportit.models import (
    Category,
    InboundMail,
    InboundReason,
    InboundStatus,
    Message,
    MessageSource,
    OutboundMail,
    OutboundStatus,
    Status,
    Ticket,
    TicketFlag,
    User,
)
from supportit.services import blobs, tickets
from supportit.services.attachments import Upload
from supportit.services.errors import StaleTicket
from supportit.services.tickets import MailOrigin, NewTicket

log = logging.getLogger(__name__)

# How often a mail is filed again when the ticket it answers changed under it.
CONFLICT_ATTEMPTS = 3

# Statuses of an earlier copy that make a new copy with the same Message-ID a duplicate.
_SETTLED = (
    InboundStatus.NEW_TICKET,
    InboundStatus.REPLY,
    InboundStatus.AUTO_REPLY,
    InboundStatus.BOUNCE,
    InboundStatus.QUARANTINED,
    InboundStatus.DISCARDED,
)


def ingest(
    raw: bytes, *, channel: str, envelope_from: str | None = None, envelope_to: Sequence[str] = ()
) -> InboundMail:
    """Store, then file one message. Redelivering the same bytes returns the first record."""
    received_at = utcnow()  # not the commit's time: filing can wait for the write lock
    # The raw bytes reach the disk first: whatever happens next, the mail can be processed again.
    digest = blobs.write(current_app.config["MAIL_DIR"], raw)
    mail = parse(raw)  # pure and never raises (a property test feeds it arbitrary bytes)
    headers = {
        "received_at": received_at,
        "envelope_from": envelope_from,
        "envelope_to": list(envelope_to),
        "message_id": mail.message_id,
        "from_address": mail.from_address,
        "subject": mail.subject or None,
    }
    for attempt in range(1, CONFLICT_ATTEMPTS + 1):
        seen = _seen(digest, mail)
        if seen.same_bytes is not None:  # the same bytes again: redelivered after the answer
            # was lost, or filed by another intake process while this one waited
            return db.session.get_one(InboundMail, seen.same_bytes)
        # The record joins the session only with its outcome (`mark`, `settle`), and is
        # committed with what the mail did. Before, it was committed on its own first: each
        # mail took SQLite's write lock twice, and a worker that died in between left a record
        # that a redelivery found, and answered, without the mail ever being filed.
        record = InboundMail(
            sha256=digest, size=len(raw), channel=channel, status=InboundStatus.RECEIVED, **headers
        )
        try:
            _process(record, mail, seen)
            return record
        except IntegrityError as error:
            db.session.rollback()
            # The same bytes, handed to two intake processes at once: the other one filed them.
            earlier = db.session.scalar(_BY_DIGEST, {"digest": digest})
            if earlier is not None:
                return earlier
            log.exception("inbound mail %s could not be processed", digest)
            return _quarantined(record, headers, error)
        except (StaleDataError, StaleTicket) as error:
            # Another mail or an agent changed the same ticket at the same moment: start again
            # from what is now in the database, as a person would.
            db.session.rollback()
            if attempt == CONFLICT_ATTEMPTS:
                return _quarantined(record, headers, error)
        except Exception as error:  # one bad message must never block the ones after it
            db.session.rollback()
            log.exception("inbound mail %s could not be processed", digest)
            return _quarantined(record, headers, error)
    raise AssertionError("unreachable: the last attempt returns")


_BY_DIGEST = select(InboundMail).where(InboundMail.sha256 == bindparam("digest"))


def _quarantined(failed: InboundMail, headers: dict[str, object], error: Exception) -> InboundMail:
    """A fresh record of a mail that could not be filed, quarantined for an agent with the
    reason. Without its headers if the database refuses them too: the raw mail is kept whole,
    and an agent can still make it a ticket."""
    for fields in (headers, {}):
        record = InboundMail(
            sha256=failed.sha256, size=failed.size, channel=failed.channel, **fields
        )
        try:
            settle(
                record,
                InboundStatus.QUARANTINED,
                InboundReason.PROCESSING_FAILED,
                repr(error)[:2000],
            )
            return record
        except SQLAlchemyError as refused:
            if not fields:
                raise
            db.session.rollback()
            log.error("inbound mail %s: headers could not be recorded: %s", failed.sha256, refused)
    raise AssertionError("unreachable: the bare record is settled or raises")


def raw_bytes(record: InboundMail) -> bytes:
    return blobs.path_for(current_app.config["MAIL_DIR"], record.sha256).read_bytes()


def mark(
    record: InboundMail,
    status: InboundStatus,
    code: InboundReason | None = None,
    detail: object = None,
) -> None:
    """Record the outcome without committing: it is committed with the change it describes."""
    db.session.add(record)
    record.status = status
    record.reason_code = code
    record.reason_detail = None if detail is None else str(detail)
    record.processed_at = utcnow()


def settle(
    record: InboundMail,
    status: InboundStatus,
    code: InboundReason | None = None,
    detail: object = None,
    **links: object,
) -> None:
    mark(record, status, code, detail)
    for name, value in links.items():
        setattr(record, name, value)
    db.session.commit()


def _process(record: InboundMail, mail: ParsedMail, seen: Seen) -> None:
    if mail.supportit_loop:
        return settle(record, InboundStatus.AUTO_REPLY, InboundReason.OWN_NOTIFICATION)
    if mail.is_bounce:
        return _bounce(record, mail)
    if mail.auto_reply_reason and not (mail.bulk_only and _allow_listed(mail.from_address)):
        return settle(
            record, InboundStatus.AUTO_REPLY, InboundReason.AUTO_REPLY, mail.auto_reply_reason
        )
    if seen.copy is not None:
        return settle(
            record,
            InboundStatus.DUPLICATE,
            InboundReason.DUPLICATE,
            seen.copy,
            ticket_id=seen.copy_ticket,
        )
    if not mail.from_address:
        return settle(record, InboundStatus.QUARANTINED, InboundReason.NO_SENDER)
    limit = current_app.config["MAIL_RATE_LIMIT_PER_HOUR"]
    if seen.filed_last_hour >= limit:
        return settle(record, InboundStatus.QUARANTINED, InboundReason.RATE_LIMITED, limit)
    _deliver(record, mail)


def _deliver(record: InboundMail, mail: ParsedMail) -> None:
    """File the mail; the record's outcome is committed together with the ticket change."""
    sender = senders.identify(mail.from_address)
    ticket, foreign = threading.find_ticket(mail, sender)
    if sender.user is not None and sender.user.is_staff:
        if ticket is None:
            return settle(record, InboundStatus.QUARANTINED, InboundReason.STAFF_WITHOUT_TICKET)
        mark(record, InboundStatus.REPLY)
        reply_from(mail, ticket, sender.user, inbound=record)
        return None
    linked = None
    if ticket is not None and _too_old_to_reopen(ticket):
        ticket, linked = None, ticket
    if ticket is not None:
        mark(record, InboundStatus.REPLY)
        # Colleagues copied on a later mail, or writing in themselves, follow the answers too.
        colleague = sender.merchant is not None and sender.merchant.id == ticket.merchant_id
        writer = [mail.from_address] if colleague and mail.from_address else []
        tickets.add_cc(ticket, _copied(mail, sender) + writer)
        message = reply_from(mail, ticket, sender.user, inbound=record)
        if sender.user is not None and asks_to_close(message.body_text):
            tickets.close(ticket, sender.user)
        return None
    mark(record, InboundStatus.NEW_TICKET)
    open_ticket_from(
        mail,
        sender,
        flag=TicketFlag.FOREIGN_REFERENCE if foreign else sender.flag,
        linked=linked,
        cc_emails=_copied(mail, sender),
        inbound=record,
    )
    return None


def reply_from(
    mail: ParsedMail, ticket: Ticket, author: User | None, *, inbound: InboundMail | None = None
) -> Message:
    """Add a mail to a ticket as a message from `author` (or from its address, without one)."""
    uploads, refused = mail_uploads(mail)
    return tickets.reply(
        ticket,
        author,
        mail_body(mail, refused),
        uploads=uploads,
        source=MessageSource.EMAIL,
        author_email=None if author else mail.from_address,
        mail=MailOrigin(message_id=mail.message_id, html=mail.html, inbound=inbound),
    )


def open_ticket_from(
    mail: ParsedMail,
    sender: senders.Sender,
    *,
    flag: TicketFlag | None,
    linked: Ticket | None = None,
    cc_emails: Sequence[str] = (),
    inbound: InboundMail | None = None,
) -> Ticket:
    """A new ticket from a mail; a staff sender is never its requester."""
    uploads, refused = mail_uploads(mail)
    requester = sender.user if sender.user and not sender.user.is_staff else None
    return tickets.open_ticket(
        sender.merchant,
        requester,
        NewTicket(
            subject=threading.clean_subject(mail.subject) or "(no subject)",
            # The default is kept only when no classifier is available.
            category=Category(current_app.config["MAIL_DEFAULT_CATEGORY"]),
            category_chosen=False,
            body=mail_body(mail, refused),
            uploads=uploads,
            source=MessageSource.EMAIL,
            requester_email=None if sender.user else mail.from_address,
            cc_emails=list(cc_emails),
            flag=flag,
            linked_ticket=linked,
            mail=MailOrigin(message_id=mail.message_id, html=mail.html, inbound=inbound),
        ),
    )


_CLOSE_WORDS = {"#close", "#fermer", "#clore", "#clôturer", "#cloturer"}


def asks_to_close(body: str) -> bool:
    """A merchant closes a ticket by mail by starting the reply with #fermer (or #close)."""
    first_line = body.strip().splitlines()[0].strip().lower() if body.strip() else ""
    return first_line in _CLOSE_WORDS


def _copied(mail: ParsedMail, sender: senders.Sender) -> list[str]:
    """Colleagues the merchant copied (same domain as the sender): they follow the answers."""
    domain = (mail.from_address or "").rpartition("@")[2]
    support = current_app.config["SUPPORT_ADDRESS"]
    if sender.merchant is None or domain in senders.PUBLIC_MAIL_DOMAINS:
        return []
    return sorted(
        {
            address
            for address in [*mail.to, *mail.cc]
            if address.endswith("@" + domain) and address not in (support, mail.from_address)
        }
    )[: tickets.MAX_CC]


def mail_body(mail: ParsedMail, refused: list[str]) -> str:
    text = mail.text.strip() or "(no text)"
    if refused:
        # The mail is kept whole (raw), so an agent can still retrieve what was not attached.
        text += "\n\n[SupportIT] " + "; ".join(refused)
    return text[: tickets.MAX_BODY_CHARS]


def mail_uploads(mail: ParsedMail) -> tuple[list[Upload], list[str]]:
    config = current_app.config
    allowed = config["MAIL_ALLOWED_EXTENSIONS"]
    uploads: list[Upload] = []
    refused: list[str] = []
    for attachment in mail.attachments:
        extension = PurePath(attachment.filename).suffix.lower().lstrip(".")
        if not attachment.data:
            refused.append(f"empty attachment {attachment.filename} skipped")
        elif extension not in allowed:
            refused.append(f"attachment {attachment.filename} not kept (type .{extension})")
        elif len(attachment.data) > config["ATTACHMENT_MAX_BYTES"]:
            refused.append(f"attachment {attachment.filename} not kept (too large)")
        elif len(uploads) >= config["MAIL_MAX_ATTACHMENTS"]:
            refused.append(f"attachment {attachment.filename} not kept (too many attachments)")
        else:
            uploads.append(Upload(attachment.filename, attachment.data))
    return uploads, refused


def _allow_listed(address: str | None) -> bool:
    domain = (address or "").rpartition("@")[2]
    return domain in current_app.config["MAIL_ALLOWLIST_DOMAINS"]


@dataclass(frozen=True)
class Seen:
    """What the database already holds about a mail, read in one statement for each mail."""

    same_bytes: int | None  # an earlier record of these very bytes
    copy: int | None  # an earlier copy with the same Message-ID, filed
    copy_ticket: int | None  # the ticket that copy went to
    filed_last_hour: int  # mails filed from the sender's address in the last hour


# Built once: building a statement costs more than running it, and every mail runs this one.
_COPY = (
    select(InboundMail.id)
    .where(InboundMail.message_id == bindparam("message_id"), InboundMail.status.in_(_SETTLED))
    .order_by(InboundMail.id)
    .limit(1)
)
_SEEN = select(
    select(InboundMail.id).where(InboundMail.sha256 == bindparam("digest")).scalar_subquery(),
    _COPY.scalar_subquery(),
    _COPY.with_only_columns(InboundMail.ticket_id).scalar_subquery(),
    select(func.count(InboundMail.id))
    .where(
        InboundMail.from_address == bindparam("address"),
        InboundMail.received_at >= bindparam("since"),
        InboundMail.status.in_([InboundStatus.NEW_TICKET, InboundStatus.REPLY]),
    )
    .scalar_subquery(),
)


def _seen(digest: str, mail: ParsedMail) -> Seen:
    """Earlier records of this mail (these bytes, or a copy) and how much its sender sent in
    the last hour, for the hourly limit: one statement rather than three, for every mail."""
    row = db.session.execute(
        _SEEN,
        {
            "digest": digest,
            "message_id": mail.message_id,
            "address": mail.from_address,
            "since": utcnow() - timedelta(hours=1),
        },
    ).one()
    return Seen(*row)


def _too_old_to_reopen(ticket: Ticket) -> bool:
    if ticket.status is not Status.CLOSED or ticket.closed_at is None:
        return False
    days = current_app.config["MAIL_REOPEN_DAYS"]
    return utcnow() - ticket.closed_at > timedelta(days=days)


def _bounce(record: InboundMail, mail: ParsedMail) -> None:
    if not mail.bounced_message_ids:
        return settle(record, InboundStatus.BOUNCE, InboundReason.BOUNCE_UNKNOWN)
    outbound = db.session.scalars(
        select(OutboundMail).where(OutboundMail.message_id.in_(mail.bounced_message_ids))
    ).all()
    for sent in outbound:
        sent.status = OutboundStatus.BOUNCED
        sent.last_error = (mail.text or "bounced")[:2000]
        if sent.ticket is not None:
            tickets.log_bounce(sent.ticket, ", ".join(sent.to_addrs))
    ticket_id = outbound[0].ticket_id if outbound else None
    settle(
        record,
        InboundStatus.BOUNCE,
        InboundReason.BOUNCE if outbound else InboundReason.BOUNCE_UNKNOWN,
        len(outbound) or None,
        ticket_id=ticket_id,
    )
