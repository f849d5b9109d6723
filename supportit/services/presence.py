"""Collision warnings: who else has a ticket open, who is writing a reply on it, and what was
said since the agent opened it.

The ticket page beats every few seconds while it is open; the presence rows live in the
database, so agents served by different web workers see each other. A row that stops beating
(a closed tab, a lost connection) fades out after GONE_AFTER.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from supportit.db import commit_without_expiring, db, utcnow
from supportit.models import Message, Ticket, TicketPresence, User

BEAT_SECONDS = 10
# Three missed beats: the agent has left the ticket.
GONE_AFTER = timedelta(seconds=3 * BEAT_SECONDS + 5)
# Rows this old are removed when the ticket's presence is next written.
FORGET_AFTER = timedelta(hours=1)


@dataclass(frozen=True)
class Colleague:
    name: str
    writing: bool  # has a reply or a note in progress in the ticket's reply box


@dataclass(frozen=True)
class NewMessage:
    author: str
    internal: bool
    from_merchant: bool


def beat_seconds() -> int:
    return int(current_app.config.get("PRESENCE_BEAT_SECONDS", BEAT_SECONDS))


def beat(ticket: Ticket, user: User, *, writing: bool, now: datetime | None = None) -> None:
    """The agent has the ticket open (and a draft in its reply box when `writing`)."""
    if not user.is_staff:
        return
    now = now or utcnow()
    values = {
        "ticket_id": ticket.id,
        "user_id": user.id,
        "seen_at": now,
        "typing_at": now if writing else None,
    }
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(TicketPresence).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=["ticket_id", "user_id"],
        set_={"seen_at": now, "typing_at": values["typing_at"]},
    )
    db.session.execute(statement)
    db.session.execute(
        delete(TicketPresence).where(
            TicketPresence.ticket_id == ticket.id, TicketPresence.seen_at < now - FORGET_AFTER
        )
    )
    # Nothing the page shows was written: keep the loaded ticket and conversation as they are.
    commit_without_expiring()


def leave(ticket: Ticket, user: User) -> None:
    """The agent closed the ticket's page: others stop seeing them at once."""
    db.session.execute(
        delete(TicketPresence).where(
            TicketPresence.ticket_id == ticket.id, TicketPresence.user_id == user.id
        )
    )
    db.session.commit()


def others(ticket: Ticket, user: User, now: datetime | None = None) -> list[Colleague]:
    """The other agents on this ticket now, those writing first."""
    now = now or utcnow()
    rows = db.session.execute(
        select(User.name, TicketPresence.typing_at)
        .join(User, User.id == TicketPresence.user_id)
        .where(
            TicketPresence.ticket_id == ticket.id,
            TicketPresence.user_id != user.id,
            TicketPresence.seen_at >= now - GONE_AFTER,
        )
        .order_by(User.name)
    ).all()
    found = [
        Colleague(name, typing_at is not None and typing_at >= now - GONE_AFTER)
        for name, typing_at in rows
    ]
    return sorted(found, key=lambda c: not c.writing)


def said_since(ticket: Ticket, user: User, last_seen_id: int | None) -> list[NewMessage]:
    """Messages added by others after the last one the agent's page shows."""
    if last_seen_id is None:
        return []
    messages = db.session.scalars(
        select(Message)
        .where(Message.ticket_id == ticket.id, Message.id > last_seen_id)
        .order_by(Message.id)
    ).all()
    return [
        NewMessage(
            author=m.author.name if m.author else (m.author_email or "?"),
            internal=m.internal,
            from_merchant=m.author is None or m.author.is_merchant,
        )
        for m in messages
        if m.author_id != user.id
    ]
