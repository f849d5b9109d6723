"""Opening, answering and changing tickets: the one place where a ticket changes.

Every function validates, applies the change, appends to the event log and commits. Agents'
changes carry the ticket version they saw; a mismatch raises StaleTicket so that two agents
never silently overwrite each other.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, select, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.exc import StaleDataError

from supportit.db import db, utcnow
from supportit.i18n import lazy_gettext as _l
from supportit.models import (
    Attachment,
    Category,
    Environment,
    InboundMail,
    Merchant,
    Message,
    MessageSource,
    OutboundMail,
    Priority,
    Product,
    Status,
    Ticket,
    TicketEvent,
    TicketFlag,
    User,
)
from supportit.models.monitor import incident_ticket
from supportit.models.ticket import refresh_search
from supportit.services import (
    alerts,
    attachments,
    classification,
    notify,
    sla,
    users,
    watchers,
)
from supportit.services.attachments import Upload
from supportit.services.errors import ServiceError, StaleTicket
from supportit.services.text import mail_to_html, plain_to_html

MAX_BODY_CHARS = 50_000
MAX_MINUTES = 24 * 60  # time spent on one answer, as an agent logs it


@dataclass
class NewTicket:
    """What a merchant (or an agent on their behalf) gives to open a ticket."""

    subject: str
    category: Category
    body: str
    priority: Priority = Priority.P3
    environment: Environment | None = None
    product: Product | None = None
    ref_nr: str | None = None
    trans_id: str | None = None
    pay_id: str | None = None
    uploads: list[Upload] = field(default_factory=list)
    source: MessageSource = MessageSource.WEB
    # Mail intake: who wrote when they have no account, why an agent should look, and the mail.
    requester_email: str | None = None
    cc_emails: list[str] = field(default_factory=list)
    flag: TicketFlag | None = None
    linked_ticket: Ticket | None = None
    mail: MailOrigin | None = None
    # The merchant picked the category (the web form); mail has none: the classifier decides.
    category_chosen: bool = True


@dataclass
class MailOrigin:
    """What a message keeps of the mail it came in."""

    message_id: str | None
    html: str | None = None  # sanitised original formatting
    # The inbound record, linked to the message in the same transaction: a crash can never leave
    # a ticket changed by a mail that intake would process again.
    inbound: InboundMail | None = None


def _log(ticket: Ticket, actor: User | None, action: str, old: object = None, new: object = None):
    # Through the event's side of the relationship: appending to `ticket.events` would first
    # load the ticket's whole history (a query, and a flush before it) on every change. The
    # history, when already loaded, still gets the event.
    db.session.add(
        TicketEvent(
            ticket=ticket,
            actor_id=actor.id if actor else None,
            action=action,
            old_value=None if old is None else str(old)[:255],
            new_value=None if new is None else str(new)[:255],
        )
    )


def _clean_body(body: str) -> str:
    body = (body or "").strip()
    if not body:
        raise ServiceError(_l("Please write a message."), field="body")
    if len(body) > MAX_BODY_CHARS:
        raise ServiceError(
            _l("The message is too long (%(max)d characters at most).", max=MAX_BODY_CHARS),
            field="body",
        )
    return body


def _optional(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def _check_version(ticket: Ticket, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != ticket.version:
        raise StaleTicket(
            _l(
                "This ticket was changed by someone else while you were reading it. "
                "Check the latest changes, then try again."
            )
        )


def _commit(ticket: Ticket, *, synced: bool = False, new: Message | None = None) -> None:
    """Commit a change to `ticket`, its SLA clocks and its alert brought in line with it first,
    and, for a `new` message, the agents who follow the ticket or are mentioned told of it."""
    try:
        # The SLA, alert and follower queries flush the ticket first: a concurrent change can
        # surface there as well as at the commit.
        if not synced:
            sla.sync(ticket)
        if alerts.pages_for(ticket) or (ticket.id is not None and not ticket.status.is_active):
            # A production-down RUN ticket opens an alert; closing the ticket resolves it.
            alerts.follow_ticket(ticket)
        if new is not None:
            watchers.message_added(ticket, new, new.author)
        db.session.commit()
    except StaleDataError:
        # Another request committed a change to the same ticket between our read and our write.
        db.session.rollback()
        raise StaleTicket(
            _l("This ticket was changed by someone else at the same moment. Please try again.")
        ) from None


def _add_message(
    ticket: Ticket,
    author: User | None,
    body: str,
    *,
    internal: bool,
    uploads: Sequence[Upload],
    source: MessageSource,
    author_email: str | None = None,
    mail: MailOrigin | None = None,
) -> Message:
    if mail is None:
        attachments.validate(list(uploads))
    message = Message(
        author=author,
        author_email=author_email,
        internal=internal,
        body_text=body,
        # Mail quotes its history: show what is new and fold the rest.
        body_html=mail_to_html(body) if mail is not None else plain_to_html(body),
        source=source,
        email_message_id=mail.message_id if mail else None,
        original_html=mail.html if mail else None,
        attachments=[],
    )
    ticket.messages.append(message)
    if mail is not None and mail.inbound is not None:
        mail.inbound.ticket = ticket
        mail.inbound.message = message
    for upload in uploads:
        db.session.add(attachments.store(upload, ticket=ticket, message=message, uploader=author))
    ticket.updated_at = utcnow()
    return message


def open_ticket(merchant: Merchant | None, requester: User | None, new: NewTicket) -> Ticket:
    subject = (new.subject or "").strip()
    if not subject:
        raise ServiceError(_l("Please give the ticket a subject."), field="subject")
    if len(subject) > 200:
        raise ServiceError(_l("The subject is too long (200 characters at most)."), field="subject")
    body = _clean_body(new.body)
    ticket = Ticket(
        merchant=merchant,
        requester=requester,
        requester_email=new.requester_email,
        cc_emails=new.cc_emails,
        flag=new.flag,
        subject=subject,
        category=new.category,
        priority=new.priority,
        status=Status.NEW,
        environment=new.environment,
        product=new.product,
        ref_nr=_optional(new.ref_nr),
        trans_id=_optional(new.trans_id),
        pay_id=_optional(new.pay_id),
        # Empty from the start: the ORM then never asks the database for a new ticket's
        # clocks, messages, files or events (each a query, and a flush before it).
        sla_clocks=[],
        messages=[],
        attachments=[],
        events=[],
    )
    if new.linked_ticket is not None:
        # Only when there is one: the link to another ticket, even set to None, makes the ORM
        # order this insert row by row through a cycle (ticket to ticket), a millisecond a mail.
        ticket.linked_ticket = new.linked_ticket
    db.session.add(ticket)
    # Before the SLA clocks and the paging rules, which depend on the category.
    classification.classify_new(ticket, body, chosen=new.category_chosen)
    _add_message(
        ticket,
        requester,
        body,
        internal=False,
        uploads=new.uploads,
        source=new.source,
        author_email=new.requester_email,
        mail=new.mail,
    )
    _log(ticket, requester, "created")
    _cap_urgent(ticket, requester)
    # The clocks first: the acknowledgement needs the ticket's id (a flush), and the ticket is
    # then inserted with its due date rather than inserted and updated.
    sla.sync(ticket)
    notify.ticket_opened(ticket)
    # Read before the commit expires the ticket: reading it after would load it again.
    production = ticket.category is Category.RUN
    _commit(ticket, synced=True)
    if production:
        from supportit.services import monitoring  # the scheduler's side: imported when needed

        monitoring.link_new_run_ticket(ticket)
    return ticket


def _cap_urgent(ticket: Ticket, actor: User | None) -> None:
    """A merchant's production-down ticket pages the on-call engineer, up to a daily cap.

    Beyond it the ticket is flagged for the agents (abuse shows) and waits for the team.
    """
    if actor is None or not actor.is_merchant or not alerts.pages_for(ticket):
        return
    # The merchant, not merchant_id: a new ticket has no foreign keys until it is flushed.
    if ticket.merchant is not None and alerts.over_urgent_cap(ticket.merchant.id):
        ticket.flag = TicketFlag.URGENT_CAPPED
        _log(ticket, actor, "urgent_capped")


def mark_urgent(ticket: Ticket, actor: User) -> bool:
    """Outside business hours a merchant marks a production ticket urgent: on-call is paged.

    Returns whether someone was paged (False when the merchant is over the daily cap).
    """
    if not actor.is_merchant or actor.merchant_id != ticket.merchant_id:
        raise ServiceError(_l("Ticket not found."))
    if not ticket.status.is_active:
        raise ServiceError(_l("This ticket is closed: open a new one."))
    if ticket.environment is not Environment.PRODUCTION:
        raise ServiceError(_l("Only a production problem can reach the on-call engineer."))
    if sla.team_calendar().is_business_hours(utcnow()):
        raise ServiceError(_l("The team is at work now: your ticket is already being handled."))
    if ticket.priority is Priority.P1 and ticket.category is Category.RUN:
        return ticket.flag is not TicketFlag.URGENT_CAPPED
    _log(ticket, actor, "urgent", f"{ticket.category.value} {ticket.priority.value}", "run P1")
    ticket.category = Category.RUN
    ticket.priority = Priority.P1
    _cap_urgent(ticket, actor)
    ticket.updated_at = utcnow()
    _commit(ticket)
    return ticket.flag is not TicketFlag.URGENT_CAPPED


MAX_CC = 10


def add_cc(ticket: Ticket, addresses: Sequence[str]) -> list[str]:
    """Colleagues of the merchant copied on a later mail follow the ticket from then on.

    Returns the addresses added. Does not commit: it goes with the reply that brought them.
    """
    current = list(ticket.cc_emails or [])
    requester = ticket.requester.email if ticket.requester else ticket.requester_email
    added = [a for a in dict.fromkeys(addresses) if a not in current and a != requester]
    added = added[: max(MAX_CC - len(current), 0)]
    if added:
        # A new list, not an in-place append: the JSON column only sees a reassignment.
        ticket.cc_emails = current + added
        _log(ticket, None, "cc", new=", ".join(added))
    return added


def reply(
    ticket: Ticket,
    author: User | None,
    body: str,
    *,
    internal: bool = False,
    uploads: Sequence[Upload] = (),
    source: MessageSource = MessageSource.WEB,
    new_status: Status | None = None,
    expected_version: int | None = None,
    author_email: str | None = None,
    mail: MailOrigin | None = None,
    priority: Priority | None = None,
    category: Category | None = None,
    canned: str | None = None,
    time_spent: int | None = None,
) -> Message:
    """Add a public reply or an internal note, moving the status the way a helpdesk would.

    An agent's public reply puts the ticket in "waiting for merchant" unless told otherwise; a
    merchant's reply brings the ticket back to the agents, reopening it if it was closed. A mail
    from someone without an account (`author` None) counts as the merchant's side. An agent
    may refile the ticket (priority, category) with the same change, as a canned reply does;
    `canned` names that reply in the history.
    """
    body = _clean_body(body)
    ticket = surviving(ticket)  # a reply to a merged duplicate belongs with its survivor
    merchant_side = author is None or author.is_merchant
    if time_spent is not None and not (merchant_side is False and 0 < time_spent <= MAX_MINUTES):
        raise ServiceError(
            _l("Time spent: a number of minutes from 1 to %(max)d.", max=MAX_MINUTES),
            field="time_spent",
        )
    if merchant_side:
        if internal:
            raise ServiceError(_l("Merchants cannot write internal notes."))
        if author is not None and author.merchant_id != ticket.merchant_id:
            raise ServiceError(_l("Ticket not found."))
    else:
        _check_version(ticket, expected_version)
    message = _add_message(
        ticket,
        author,
        body,
        internal=internal,
        uploads=uploads,
        source=source,
        author_email=author_email,
        mail=mail,
    )
    message.time_spent = time_spent
    _log(ticket, author, "note" if internal else "reply", new=message.source)
    if canned:
        _log(ticket, author, "canned", new=canned)
    if not merchant_side and author is not None:
        _refile(ticket, author, priority=priority, category=category)
    if merchant_side:
        if ticket.status is not Status.NEW:
            _set_status(ticket, author, Status.OPEN)
    elif not internal:
        if ticket.first_response_at is None:
            ticket.first_response_at = utcnow()
        _set_status(ticket, author, new_status or Status.PENDING_MERCHANT)
        notify.agent_replied(ticket, message)
    elif new_status is not None:
        _set_status(ticket, author, new_status)
    _commit(ticket, new=message)
    return message


def add_external_note(ticket: Ticket, source: str, body: str) -> Message:
    """An internal note written by another system (Jira): no author, the system's name shown."""
    ticket = surviving(ticket)  # a merged duplicate's Jira issue still comments on the ticket
    message = _add_message(
        ticket,
        None,
        _clean_body(body),
        internal=True,
        uploads=(),
        source=MessageSource.API,
        author_email=source,
    )
    _log(ticket, None, "note", new=source)
    _commit(ticket, new=message)
    return message


def _set_status(ticket: Ticket, actor: User | None, status: Status) -> None:
    if ticket.status is status:
        return
    old = ticket.status
    ticket.status = status
    now = utcnow()
    if status is Status.RESOLVED:
        ticket.resolved_at = now
    elif status is Status.CLOSED:
        ticket.closed_at = now
        ticket.resolved_at = ticket.resolved_at or now
    else:
        ticket.resolved_at = None
        ticket.closed_at = None
    if status is Status.CLOSED:
        action = "closed"
    elif not old.is_active and status.is_active:
        action = "reopened"
    else:
        action = "status"
    _log(ticket, actor, action, old, status)
    ticket.updated_at = now


def update_fields(
    ticket: Ticket,
    actor: User,
    *,
    expected_version: int | None,
    status: Status | None = None,
    priority: Priority | None = None,
    category: Category | None = None,
) -> list[str]:
    """An agent changes status, priority or category; returns the names of what changed."""
    _require_staff(actor)
    _check_version(ticket, expected_version)
    changed = []
    if status is not None and status is not ticket.status:
        _set_status(ticket, actor, status)
        changed.append("status")
        if status is Status.RESOLVED:
            notify.ticket_resolved(ticket)
    changed += _refile(ticket, actor, priority=priority, category=category)
    if changed:
        ticket.updated_at = utcnow()
        _commit(ticket)  # a new priority or category can mean a new target
    return changed


def _refile(
    ticket: Ticket, actor: User, *, priority: Priority | None, category: Category | None
) -> list[str]:
    """Move the ticket to another priority or queue, logged; returns what changed."""
    changed = []
    if priority is not None and priority is not ticket.priority:
        _log(ticket, actor, "priority", ticket.priority, priority)
        ticket.priority = priority
        changed.append("priority")
    if category is not None and category is not ticket.category:
        _log(ticket, actor, "category", ticket.category, category)
        ticket.category = category
        changed.append("category")
        classification.record_decision(ticket, actor, category)  # the classifier learns it
    return changed


def assign(
    ticket: Ticket, actor: User, assignee: User | None, *, expected_version: int | None = None
) -> bool:
    """Give the ticket to an agent (or to nobody). Returns whether anything changed."""
    _require_staff(actor)
    if assignee is not None and not assignee.is_staff:
        raise ServiceError(_l("Tickets can only be assigned to agents."), field="assignee")
    _check_version(ticket, expected_version)
    if ticket.assignee_id == (assignee.id if assignee else None):
        return False
    _log(ticket, actor, "assignee", _email(ticket.assignee), _email(assignee))
    ticket.assignee = assignee
    if ticket.status is Status.NEW and assignee is not None:
        _set_status(ticket, actor, Status.OPEN)
    ticket.updated_at = utcnow()
    _commit(ticket)
    return True


def bulk_assign(ticket_ids: Sequence[int], actor: User, assignee: User | None) -> int:
    """Assign several tickets at once; returns how many changed."""
    _require_staff(actor)
    if not ticket_ids:
        raise ServiceError(_l("Select at least one ticket."))
    tickets = db.session.scalars(select(Ticket).where(Ticket.id.in_(ticket_ids))).all()
    changed = 0
    for ticket in tickets:
        if assign(ticket, actor, assignee):
            changed += 1
    return changed


def close(ticket: Ticket, actor: User) -> None:
    """The merchant (or an agent) closes the ticket: the question is settled."""
    if ticket.status is Status.CLOSED:
        return
    _set_status(ticket, actor, Status.CLOSED)
    _commit(ticket)


def reopen(ticket: Ticket, actor: User) -> None:
    if ticket.status.is_active:
        return
    _set_status(ticket, actor, Status.OPEN)
    _commit(ticket)


def log_bounce(ticket: Ticket, recipients: str) -> None:
    """A mail we sent about this ticket came back undelivered: agents must see it."""
    _log(ticket, None, "bounce", new=recipients)
    _commit(ticket)


def _require_staff(actor: User) -> None:
    if not actor.is_staff:
        raise ServiceError(_l("Only support agents can do this."))


def _email(user: User | None) -> str | None:
    return user.email if user else None


def staff_users() -> list[User]:
    return users.active_staff()


def by_reference(text: str | None, *, conversation: bool = True) -> Ticket | None:
    """The ticket a reference names ("FLOA-000123", "123"), or None. No access check.

    With its merchant, people and SLA clocks, which every page of a ticket shows, and with its
    conversation as the ORM's messages (one round trip each for the messages and their files
    instead of one per message's author), which the services that change or export a ticket
    work on. Pages that only show the conversation ask for it without (`conversation=False`)
    and read it as rows (`conversation()`), as do those that need the ticket alone: the page's
    heartbeat, its history, its side panels.
    """
    number = Ticket.number_from_reference((text or "").strip())
    if number is None:
        return None
    options = [
        joinedload(Ticket.merchant),
        joinedload(Ticket.assignee),
        joinedload(Ticket.requester),
        # Two rows at most, which the page shows and a reply brings up to date.
        joinedload(Ticket.sla_clocks),
    ]
    if conversation:
        # The authors in a query of their own: a conversation has two or three, which
        # joined to each message were read again with each of 50 rows.
        options.append(selectinload(Ticket.messages).selectinload(Message.author))
    return db.session.get(Ticket, number, options=options)


@dataclass(frozen=True, slots=True)
class ShownFile:
    """A message's file as a conversation lists it."""

    id: int
    filename: str
    size: int


@dataclass(frozen=True, slots=True)
class ShownMessage:
    """A message as a conversation shows it: its columns, its author, its files.

    Read as plain rows rather than as the ORM's messages: a page only reads them, and building
    50 tracked messages with their files took three times as long as the rows (about 3 ms of
    a 50-message ticket page)."""

    id: int
    author: User | None
    internal: bool
    body_html: str
    source: MessageSource
    created_at: datetime
    time_spent: int | None
    attachments: tuple[ShownFile, ...]


_CONVERSATION = (
    select(
        Message.id,
        Message.author_id,
        Message.internal,
        Message.body_html,
        Message.source,
        Message.created_at,
        Message.time_spent,
    )
    .where(Message.ticket_id == bindparam("ticket_id"))
    .order_by(Message.id)
)
_CONVERSATION_FILES = (
    select(Attachment.message_id, Attachment.id, Attachment.filename, Attachment.size)
    .where(Attachment.ticket_id == bindparam("ticket_id"), Attachment.message_id.is_not(None))
    .order_by(Attachment.id)
)


def conversation(ticket: Ticket, *, public: bool = False) -> list[ShownMessage]:
    """The ticket's messages, oldest first, as its pages show them; `public`: without the
    internal notes, as the merchant sees them."""
    if "messages" not in sa_inspect(ticket).unloaded:  # loaded already: no need to ask again
        return [
            _shown(m, m.author, [ShownFile(a.id, a.filename, a.size) for a in m.attachments])
            for m in ticket.messages
            if not (public and m.internal)
        ]
    rows = db.session.execute(_CONVERSATION, {"ticket_id": ticket.id}).all()
    if public:
        rows = [row for row in rows if not row.internal]
    files: dict[int, list[ShownFile]] = {}
    if rows:
        for message_id, *file in db.session.execute(_CONVERSATION_FILES, {"ticket_id": ticket.id}):
            files.setdefault(message_id, []).append(ShownFile(*file))
    authors = _users({row.author_id for row in rows} - {None})
    return [_shown(row, authors.get(row.author_id), files.get(row.id, ())) for row in rows]


def _shown(
    message: Message | Row[Any], author: User | None, files: Iterable[ShownFile]
) -> ShownMessage:
    """A message, or a row of `_CONVERSATION` (the same names), as a conversation shows it."""
    return ShownMessage(
        id=message.id,
        author=author,
        internal=message.internal,
        body_html=message.body_html,
        source=message.source,
        created_at=message.created_at,
        time_spent=message.time_spent,
        attachments=tuple(files),
    )


def _users(ids: set[int]) -> dict[int, User]:
    """The users of `ids`: those the session holds already (the ticket's requester and
    assignee, the reader) without a query, the others in one."""
    found: dict[int, User] = {}
    for user_id in ids:
        user = db.session.identity_map.get(db.session.identity_key(User, user_id))
        if user is not None:
            found[user_id] = user  # type: ignore[assignment]
    missing = ids - found.keys()
    if missing:
        found.update(
            (u.id, u) for u in db.session.scalars(select(User).where(User.id.in_(missing)))
        )
    return found


# --- duplicates: merge and split -------------------------------------------------------------

MAX_MERGE_CHAIN = 20


def surviving(ticket: Ticket) -> Ticket:
    """The ticket itself, or the one it was merged into (following merges of merges)."""
    for _ in range(MAX_MERGE_CHAIN):
        if ticket.merged_into_id is None:
            return ticket
        ticket = ticket.merged_into or ticket
    return ticket


# What belongs to a ticket and moves with its conversation. Events move too: the survivor's
# history then tells the whole story, each event still with its own actor and time.
_MOVED_WITH_A_MERGE = (Message, Attachment, TicketEvent, InboundMail, OutboundMail)


def merge(
    duplicate: Ticket, survivor: Ticket, actor: User, *, expected_version: int | None = None
) -> Ticket:
    """Merge `duplicate` into `survivor`: messages, files, people in copy, history and mail
    threads move there; the duplicate is closed and leads to the survivor from then on.

    Nothing is deleted: the duplicate stays, empty, as the pointer its reference needs.
    """
    _require_staff(actor)
    if duplicate.merged_into_id is not None:
        raise ServiceError(
            _l("%(ref)s is already merged.", ref=duplicate.reference), field="target"
        )
    survivor = surviving(survivor)
    if survivor.id == duplicate.id:
        raise ServiceError(_l("A ticket cannot be merged into itself."), field="target")
    if duplicate.merchant_id != survivor.merchant_id and duplicate.merchant_id is not None:
        # One merchant's conversation never moves into another's ticket.
        raise ServiceError(_l("Both tickets must belong to the same merchant."), field="target")
    _check_version(duplicate, expected_version)
    # Copied onto the survivor: whoever wrote the duplicate gets the answers from now on.
    requester = duplicate.requester.email if duplicate.requester else duplicate.requester_email
    add_cc(survivor, [a for a in [requester, *(duplicate.cc_emails or [])] if a])
    for name in ("ref_nr", "trans_id", "pay_id", "environment", "product"):
        if getattr(survivor, name) is None and getattr(duplicate, name) is not None:
            setattr(survivor, name, getattr(duplicate, name))
    db.session.flush()
    for model in _MOVED_WITH_A_MERGE:
        db.session.execute(
            update(model)
            .where(model.ticket_id == duplicate.id)
            .values(ticket_id=survivor.id)
            .execution_options(synchronize_session=False)
        )
    _move_incident_links(duplicate.id, survivor.id)
    watchers.move(duplicate.id, survivor.id)
    # The collections in memory no longer tell the truth: read them again when needed.
    for ticket in (duplicate, survivor):
        db.session.expire(ticket, ["messages", "attachments", "events"])
    refresh_search(db.session.connection(), {duplicate.id, survivor.id})
    duplicate.merged_into = survivor
    _log(duplicate, actor, "merged_into", new=survivor.reference)
    if not survivor.status.is_active and duplicate.status.is_active:
        _set_status(survivor, actor, Status.OPEN)  # the duplicate's question is still open
    _set_status(duplicate, actor, Status.CLOSED)
    _log(survivor, actor, "merged", new=duplicate.reference)
    survivor.updated_at = utcnow()
    sla.sync(duplicate)
    alerts.follow_ticket(duplicate)  # a closed duplicate's page is resolved
    _commit(survivor)
    return survivor


def _move_incident_links(from_id: int, to_id: int) -> None:
    linked = set(
        db.session.scalars(
            select(incident_ticket.c.incident_id).where(incident_ticket.c.ticket_id == to_id)
        )
    )
    for incident_id in db.session.scalars(
        select(incident_ticket.c.incident_id).where(incident_ticket.c.ticket_id == from_id)
    ).all():
        if incident_id not in linked:
            db.session.execute(
                incident_ticket.insert().values(incident_id=incident_id, ticket_id=to_id)
            )
    db.session.execute(incident_ticket.delete().where(incident_ticket.c.ticket_id == from_id))


def split(message: Message, actor: User, subject: str | None = None) -> Ticket:
    """Move one message (and its files) out into a new ticket of the same merchant: a second
    question asked in the thread of the first gets its own queue, SLA and answer."""
    _require_staff(actor)
    original = message.ticket
    if len(original.messages) < 2:
        raise ServiceError(_l("A ticket's only message cannot be split out."))
    subject = " ".join((subject or "").split()) or original.subject
    if len(subject) > 200:
        raise ServiceError(_l("The subject is too long (200 characters at most)."), field="subject")
    # Who asked: the merchant's user who wrote it, the unknown sender of a mail, or else (an
    # agent's message) the original requester.
    requester, requester_email = original.requester, original.requester_email
    if message.author is not None and message.author.is_merchant:
        requester, requester_email = message.author, None
    elif message.author is None and message.source is MessageSource.EMAIL and message.author_email:
        requester, requester_email = None, message.author_email
    new = Ticket(
        merchant=original.merchant,
        requester=requester,
        requester_email=requester_email,
        cc_emails=list(original.cc_emails or []),
        linked_ticket=original,
        subject=subject,
        category=original.category,
        priority=original.priority,
        status=Status.NEW,
        environment=original.environment,
        product=original.product,
        sla_clocks=[],
        messages=[],
        attachments=[],
        events=[],
    )
    db.session.add(new)
    moved_files = list(message.attachments)
    message.ticket = new
    for attachment in moved_files:
        attachment.ticket = new
    _log(new, actor, "split_from", new=original.reference)
    db.session.flush()
    _log(original, actor, "split_to", new=new.reference)
    original.updated_at = new.updated_at = utcnow()
    refresh_search(db.session.connection(), {original.id, new.id})
    sla.sync(new)
    if not message.internal:
        notify.ticket_opened(new)  # the merchant learns the new reference, for the next mails
    _commit(new, synced=True)
    _commit(original)
    return new
