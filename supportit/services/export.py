"""Tickets as plain data, for the command line and scripts (JSON-ready dictionaries)."""

from __future__ import annotations

from sqlalchemy import select

from supportit.db import db
from supportit.models import Status, Ticket
from supportit.services import tickets


def _summary(ticket: Ticket) -> dict[str, object]:
    return {
        "reference": ticket.reference,
        "subject": ticket.subject,
        "category": ticket.category.value,
        "priority": ticket.priority.value,
        "status": ticket.status.value,
        "merchant": ticket.merchant.name if ticket.merchant else None,
        "requester": ticket.requester.email if ticket.requester else ticket.requester_email,
        "assignee": ticket.assignee.email if ticket.assignee else None,
        "flag": ticket.flag.value if ticket.flag else None,
        "linked_ticket": ticket.linked_ticket.reference if ticket.linked_ticket else None,
        "created_at": ticket.created_at.isoformat(),
        "updated_at": ticket.updated_at.isoformat(),
    }


def ticket_list(*, limit: int = 50, status: Status | None = None) -> list[dict[str, object]]:
    query = select(Ticket).order_by(Ticket.updated_at.desc(), Ticket.id.desc()).limit(limit)
    if status is not None:
        query = query.where(Ticket.status == status)
    return [_summary(ticket) for ticket in db.session.scalars(query)]


def ticket_document(reference: str) -> dict[str, object] | None:
    ticket = tickets.by_reference(reference)
    if ticket is None:
        return None
    document = _summary(ticket)
    document["messages"] = [
        {
            "created_at": message.created_at.isoformat(),
            "author": message.author.email if message.author else message.author_email,
            "internal": message.internal,
            "source": message.source.value,
            "message_id": message.email_message_id,
            "body": message.body_text,
            "attachments": [a.filename for a in message.attachments],
        }
        for message in ticket.messages
    ]
    return document
