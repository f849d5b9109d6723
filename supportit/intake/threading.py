"""Which ticket a mail answers: by its Message-ID chain first, then by the subject's reference.

A subject reference is honoured only from the ticket's own merchant: quoting another
merchant's reference gives no access to that ticket (the mail opens a new, flagged ticket).
"""

from __future__ import annotations

import re

from sqlalchemy import select

from supportit.db import db
from supportit.intake.parse import ParsedMail
from supportit.intake.senders import Sender
from supportit.models import Message, OutboundMail, Ticket
from supportit.services import tickets

_REFERENCE_RE = re.compile(r"\[?\bFLOA-?(\d{1,9})\b\]?", re.IGNORECASE)
# Reply and forward prefixes of the mail clients merchants use, with Outlook's "RE :" spacing.
_PREFIX_RE = re.compile(
    r"^\s*((re|tr|fwd?|aw|wg|sv|vs|réf|ref|rép|rep|antw)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE
)


def clean_subject(subject: str) -> str:
    """The subject without reply prefixes and without our reference tag."""
    previous = None
    while previous != subject:
        previous = subject
        subject = _PREFIX_RE.sub("", subject)
        subject = _REFERENCE_RE.sub("", subject, count=1).strip(" -:")
    return " ".join(subject.split())[:200]


def reference_in(subject: str) -> int | None:
    match = _REFERENCE_RE.search(subject or "")
    return int(match.group(1)) if match else None


def find_ticket(mail: ParsedMail, sender: Sender) -> tuple[Ticket | None, bool]:
    """(the ticket this mail answers, whether it tried to reach another merchant's ticket)."""
    ticket = _by_message_ids(mail.thread_ids)
    if ticket is not None:
        ticket = tickets.surviving(ticket)  # a merged duplicate's thread goes on in its survivor
        if _other_merchant(ticket, sender):
            return None, True
        return ticket, False
    number = reference_in(mail.subject)
    if number is None:
        return None, False
    ticket = db.session.get(Ticket, number)
    if ticket is None:
        return None, False
    ticket = tickets.surviving(ticket)
    staff = sender.user is not None and sender.user.is_staff
    if staff or (sender.merchant is not None and sender.merchant.id == ticket.merchant_id):
        return ticket, False
    return None, True


def _other_merchant(ticket: Ticket, sender: Sender) -> bool:
    return (
        sender.merchant is not None
        and ticket.merchant_id is not None
        and sender.merchant.id != ticket.merchant_id
    )


def _by_message_ids(ids: list[str]) -> Ticket | None:
    if not ids:
        return None
    ids = ids[:100]  # a References header can be very long; the nearest ids matter
    found: dict[str, int] = {}
    for message_id, ticket_id in db.session.execute(
        select(Message.email_message_id, Message.ticket_id).where(Message.email_message_id.in_(ids))
    ):
        found.setdefault(message_id, ticket_id)
    for message_id, ticket_id in db.session.execute(
        select(OutboundMail.message_id, OutboundMail.ticket_id).where(
            OutboundMail.message_id.in_(ids), OutboundMail.ticket_id.is_not(None)
        )
    ):
        found.setdefault(message_id, ticket_id)
    for message_id in ids:
        if message_id in found:
            return db.session.get(Ticket, found[message_id])
    return None
