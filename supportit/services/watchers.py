"""Watchers and mentions: agents follow tickets and are told of what happens on them; a
colleague named with "@" in an internal note follows the ticket from then on and is told at once.

Told means both: a notice under the bell in the app, and a mail in the agent's language.
A mention names an agent by full name ("@Julien Moreau"), by the start of their address
("@agent2"), or by first name when only one agent has it ("@Julien").
"""

from __future__ import annotations

import re

from flask import g, has_request_context
from sqlalchemy import Select, delete, func, select, update

from supportit.db import commit_without_expiring, db, utcnow
from supportit.models import (
    AgentNotice,
    Message,
    NoticeKind,
    Ticket,
    TicketWatcher,
    User,
)
from supportit.services import notify, users

_AT_RE = re.compile(r"(?<![\w@.])@(?=\w)")
NOTICES_SHOWN = 50


def is_following(ticket: Ticket, user: User) -> bool:
    return db.session.get(TicketWatcher, {"ticket_id": ticket.id, "user_id": user.id}) is not None


def watchers_of(ticket: Ticket) -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .join(TicketWatcher, TicketWatcher.user_id == User.id)
            .where(TicketWatcher.ticket_id == ticket.id, User.active.is_(True))
            .order_by(User.name)
        )
    )


def _follow(ticket: Ticket, user: User) -> bool:
    if not user.is_staff or is_following(ticket, user):
        return False
    db.session.add(TicketWatcher(ticket_id=ticket.id, user_id=user.id))
    return True


def follow(ticket: Ticket, user: User) -> bool:
    """The agent follows the ticket; returns False if they already did."""
    followed = _follow(ticket, user)
    db.session.commit()
    return followed


def unfollow(ticket: Ticket, user: User) -> None:
    db.session.execute(
        delete(TicketWatcher).where(
            TicketWatcher.ticket_id == ticket.id, TicketWatcher.user_id == user.id
        )
    )
    db.session.commit()


def mentioned(text: str, staff: list[User]) -> list[User]:
    """The agents an internal note names with "@", in the order they appear, each once."""
    by_full = sorted(staff, key=lambda u: -len(u.name))
    first_names: dict[str, list[User]] = {}
    for user in staff:
        first_names.setdefault(user.name.split()[0].casefold(), []).append(user)
    found: list[User] = []
    for match in _AT_RE.finditer(text):
        rest = text[match.end() :]
        folded = rest.casefold()
        user = next(
            (
                u
                for u in by_full
                if folded.startswith(u.name.casefold()) and _ends_word(rest, len(u.name))
            ),
            None,
        )
        if user is None:
            handle = re.match(r"[\w.+-]+", rest)
            word = handle.group(0).rstrip(".").casefold() if handle else ""
            user = next((u for u in staff if u.email.split("@")[0].casefold() == word), None)
            if user is None and len(first_names.get(word, [])) == 1:
                user = first_names[word][0]
        if user is not None and user not in found:
            found.append(user)
    return found


def _ends_word(text: str, length: int) -> bool:
    return len(text) == length or not (text[length].isalnum() or text[length] == "_")


def message_added(ticket: Ticket, message: Message, author: User | None) -> None:
    """Tell who should know of a new message: the agents an internal note mentions (who then
    follow the ticket) and the ticket's followers. No commit: part of the message's change."""
    db.session.flush()
    mentions = (
        [u for u in mentioned(message.body_text, users.active_staff()) if u != author]
        # Only an agent's internal note mentions; the staff list is read only if it may.
        if message.internal and author is not None and author.is_staff and "@" in message.body_text
        else []
    )
    for user in mentions:
        _follow(ticket, user)
    followers = [u for u in watchers_of(ticket) if u != author and u not in mentions]
    actor = author.name if author else (message.author_email or "?")
    for kind, people in ((NoticeKind.MENTION, mentions), (NoticeKind.ACTIVITY, followers)):
        if not people:
            continue
        for user in people:
            db.session.add(
                AgentNotice(
                    user_id=user.id,
                    ticket_id=ticket.id,
                    message_id=message.id,
                    kind=kind,
                    actor_name=actor[:254],
                )
            )
        notify.staff_alert(ticket, kind.value, people, message=message, actor=actor)


def move(from_ticket_id: int, to_ticket_id: int) -> None:
    """A merge: the duplicate's followers follow the survivor (once each)."""
    already = select(TicketWatcher.user_id).where(TicketWatcher.ticket_id == to_ticket_id)
    db.session.execute(
        delete(TicketWatcher).where(
            TicketWatcher.ticket_id == from_ticket_id, TicketWatcher.user_id.in_(already)
        )
    )
    db.session.execute(
        update(TicketWatcher)
        .where(TicketWatcher.ticket_id == from_ticket_id)
        .values(ticket_id=to_ticket_id)
        .execution_options(synchronize_session=False)
    )


# --- the bell --------------------------------------------------------------------------------


def unread_count(user: User) -> int:
    """The bell's figure, counted once per request: the ticket page asks it before marking the
    ticket's notices read (most pages have none to mark), and the bell after."""
    counted = unread_counted()
    if user.id not in counted:
        counted[user.id] = db.session.scalar(unread_query(user))
    return counted[user.id]


def unread_query(user: User) -> Select[tuple[int]]:
    return select(func.count()).where(AgentNotice.user_id == user.id, AgentNotice.read_at.is_(None))


def unread_counted() -> dict[int, int]:
    """The unread counts already made in this request, by user id (kept until a change)."""
    return g.setdefault("unread_notices", {}) if has_request_context() else {}


def notices(user: User) -> list[AgentNotice]:
    return list(
        db.session.scalars(
            select(AgentNotice)
            .where(AgentNotice.user_id == user.id)
            .order_by(AgentNotice.id.desc())
            .limit(NOTICES_SHOWN)
        )
    )


def mark_read(user: User, ticket: Ticket | None = None) -> None:
    """Opening a ticket reads its notices; "mark all read" reads them all."""
    unread = [AgentNotice.user_id == user.id, AgentNotice.read_at.is_(None)]
    if ticket is not None:
        unread.append(AgentNotice.ticket_id == ticket.id)
    # A read first: most ticket pages have nothing to mark, and then write nothing. With no
    # unread notice at all (the bell's count, which the page needs anyway), not even that.
    if unread_count(user) == 0:
        return
    if db.session.scalar(select(AgentNotice.id).where(*unread).limit(1)) is None:
        return
    db.session.execute(update(AgentNotice).where(*unread).values(read_at=utcnow()))
    if has_request_context():
        g.pop("unread_notices", None)  # the bell counts again
    # The ticket page reads them as it opens: keep its loaded ticket and conversation.
    commit_without_expiring()
