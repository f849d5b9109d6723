"""Tickets, their conversation, attachments and the append-only event log."""

from __future__ import annotations

import enum
import re
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    DDL,
    JSON,
    CheckConstraint,
    Connection,
    ForeignKey,
    Index,
    String,
    Text,
    bindparam,
    event,
    inspect,
    select,
    text,
)
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship
from sqlalchemy.orm.util import identity_key

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
    merchant_id: Mapped[int | None] = mapped_column(ForeignKey("merchant.id"))
    requester_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # Where replies go when the requester has no account (mail from an unknown address).
    requester_email: Mapped[str | None] = mapped_column(String(254))
    # People the merchant copied on its mails: they get our answers too.
    cc_emails: Mapped[list[str]] = mapped_column(JSON, default=list)
    flag: Mapped[TicketFlag | None] = mapped_column(enum_column(TicketFlag, "ticket_flag"))
    # A mail answering a long-closed ticket opens a new one, linked to the old.
    linked_ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"))
    # A duplicate merged into another ticket: its conversation moved there, and every way in
    # (a page, a reply, a mail) leads there.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
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
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
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
    linked_ticket: Mapped[Ticket | None] = relationship(
        remote_side=[id], foreign_keys=[linked_ticket_id]
    )
    merged_into: Mapped[Ticket | None] = relationship(
        remote_side=[id], foreign_keys=[merged_into_id]
    )
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
    # The queue's sorts each have an index ending with the id, the tie-break: a page deep in
    # years of tickets is then read from the index alone (see services.queue.TicketPagination).
    __table_args__ = (
        Index("ix_ticket_status_category", "status", "category"),
        Index("ix_ticket_updated_at_id", "updated_at", "id"),
        Index("ix_ticket_created_at_id", "created_at", "id"),
        Index("ix_ticket_priority_id", "priority", "id"),
        # "Mine": an agent's live tickets among the thousands they ever handled. It also serves
        # the foreign key's lookups.
        Index("ix_ticket_assignee_status", "assignee_id", "status"),
        # A merchant's list, newest first; it also serves the foreign key's lookups.
        Index("ix_ticket_merchant_updated", "merchant_id", "updated_at", "id"),
    )

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

    def message_texts(self) -> list[tuple[bool, str]]:
        """(internal, body text) of each message, oldest first: from the conversation when it
        is loaded, else these two columns alone, which is what the side panels read (their
        words), rather than 50 messages with their authors and files."""
        if "messages" not in sa_inspect(self).unloaded:
            return [(m.internal, m.body_text or "") for m in self.messages]
        rows = db.session.execute(
            select(Message.internal, Message.body_text)
            .where(Message.ticket_id == self.id)
            .order_by(Message.id)
        )
        return [(internal, body or "") for internal, body in rows]


# The default sort, least SLA time left first and stopped clocks last, as an expression index
# whose terms are exactly those of the ORDER BY (services.queue.queue_select).
Index("ix_ticket_sla_order", Ticket.sla_due_at.is_(None), Ticket.sla_due_at, Ticket.id)


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
    # Minutes the agent says the answer took (optional), for the KPIs.
    time_spent: Mapped[int | None]

    ticket: Mapped[Ticket] = relationship(back_populates="messages")
    author: Mapped[User | None] = relationship()
    # Loaded with the messages, in one query for all of them: a conversation shows each
    # message's files, and one query per message made long tickets slow (N+1).
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="message", order_by="Attachment.id", lazy="selectin"
    )

    # The KPIs' time spent in a period: only the few messages that carry a time are indexed,
    # instead of the KPI scanning years of messages.
    __table_args__ = (
        Index(
            "ix_message_time_spent_created",
            "created_at",
            sqlite_where=text("time_spent IS NOT NULL"),
            postgresql_where=text("time_spent IS NOT NULL"),
        ),
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

    # The KPIs' reopened tickets: a rare action found without reading the whole history.
    __table_args__ = (Index("ix_ticket_event_action_ticket", "action", "ticket_id"),)


class AppendOnlyError(RuntimeError):
    pass


@event.listens_for(TicketEvent, "before_update")
def _refuse_event_update(mapper: object, connection: object, target: TicketEvent) -> None:
    raise AppendOnlyError("the ticket event log is append-only")


class TicketSearch(db.Model):
    """A ticket's searchable text in one row: what one full-text match needs to name the
    ticket, without looking up each of hundreds of thousands of messages.

    Kept in step by a flush listener (`_follow_search` below), whichever way a ticket or a
    message is written: web, mail, API or CLI.
    """

    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("ticket.id", ondelete="CASCADE"), primary_key=True
    )
    # The subject, the order references and the conversation the merchant sees.
    public_text: Mapped[str] = mapped_column(Text, default="")
    # Internal notes: agents search them, merchants never do.
    internal_text: Mapped[str] = mapped_column(Text, default="")


# Both databases index the same tokens, runs of letters and digits, lowercased and with accents
# kept, so that a search gives the same tickets on SQLite and PostgreSQL; a query word matches
# the start of a token.
#
# SQLite: an FTS5 "external content" index over `ticket_search`, kept in step by triggers (the
# pattern of the FTS5 manual), as for the knowledge base.
FTS_TABLES = ("ticket_fts",)
SQLITE_TICKET_FTS = [
    "CREATE VIRTUAL TABLE ticket_fts USING fts5(public_text, internal_text, "
    "content='ticket_search', content_rowid='ticket_id', "
    "tokenize='unicode61 remove_diacritics 0')",
    "CREATE TRIGGER ticket_fts_ai AFTER INSERT ON ticket_search BEGIN "
    "INSERT INTO ticket_fts(rowid, public_text, internal_text) "
    "VALUES (new.ticket_id, new.public_text, new.internal_text); END",
    "CREATE TRIGGER ticket_fts_ad AFTER DELETE ON ticket_search BEGIN "
    "INSERT INTO ticket_fts(ticket_fts, rowid, public_text, internal_text) "
    "VALUES ('delete', old.ticket_id, old.public_text, old.internal_text); END",
    "CREATE TRIGGER ticket_fts_au AFTER UPDATE ON ticket_search BEGIN "
    "INSERT INTO ticket_fts(ticket_fts, rowid, public_text, internal_text) "
    "VALUES ('delete', old.ticket_id, old.public_text, old.internal_text); "
    "INSERT INTO ticket_fts(rowid, public_text, internal_text) "
    "VALUES (new.ticket_id, new.public_text, new.internal_text); END",
]
SQLITE_TICKET_FTS_DROP = [
    *(f"DROP TRIGGER IF EXISTS ticket_fts_{s}" for s in ("au", "ad", "ai")),
    "DROP TABLE IF EXISTS ticket_fts",
]


# PostgreSQL: GIN indexes over the same tokens, as expressions. A query must repeat an
# expression exactly for the planner to use its index, hence these shared strings.
def pg_tokens(sql: str) -> str:
    return f"to_tsvector('simple'::regconfig, regexp_replace({sql}, '[^[:alnum:]]+', ' ', 'g'))"


PG_PUBLIC_VECTOR = pg_tokens("public_text")
PG_ALL_VECTOR = pg_tokens("public_text || ' ' || internal_text")
PG_SEARCH_INDEXES = {
    "ix_ticket_search_public": (
        f"CREATE INDEX ix_ticket_search_public ON ticket_search USING gin (({PG_PUBLIC_VECTOR}))"
    ),
    "ix_ticket_search_all": (
        f"CREATE INDEX ix_ticket_search_all ON ticket_search USING gin (({PG_ALL_VECTOR}))"
    ),
}

for _statement in SQLITE_TICKET_FTS:
    event.listen(
        TicketSearch.__table__, "after_create", DDL(_statement).execute_if(dialect="sqlite")
    )
for _statement in SQLITE_TICKET_FTS_DROP:
    event.listen(
        TicketSearch.__table__, "before_drop", DDL(_statement).execute_if(dialect="sqlite")
    )
for _statement in PG_SEARCH_INDEXES.values():
    event.listen(
        TicketSearch.__table__, "after_create", DDL(_statement).execute_if(dialect="postgresql")
    )


_SEARCHED_TICKET_FIELDS = ("subject", "ref_nr", "trans_id", "pay_id")


def search_texts(ticket: tuple, messages: list[tuple[bool, str]]) -> tuple[str, str]:
    """(public, internal) text of a ticket: its subject and order references, then its
    messages as (internal, body) pairs in order."""
    public = [value for value in ticket if value]
    public += [body for internal, body in messages if not internal]
    internal = [body for internal, body in messages if internal]
    return "\n".join(public), "\n".join(internal)


def refresh_search(connection: Connection, ticket_ids: set[int]) -> None:
    """Rewrite the search rows of these tickets from what the database holds now."""
    if not ticket_ids:
        return
    ids = sorted(ticket_ids)
    tickets = Ticket.__table__
    messages = Message.__table__
    fields = {
        row[0]: row[1:]
        for row in connection.execute(
            select(tickets.c.id, *(tickets.c[name] for name in _SEARCHED_TICKET_FIELDS)).where(
                tickets.c.id.in_(ids)
            )
        )
    }
    conversation: dict[int, list[tuple[bool, str]]] = {i: [] for i in fields}
    for ticket_id, internal, body in connection.execute(
        select(messages.c.ticket_id, messages.c.internal, messages.c.body_text)
        .where(messages.c.ticket_id.in_(list(fields)))
        .order_by(messages.c.id)
    ):
        conversation[ticket_id].append((internal, body))
    _write_search(
        connection,
        {i: search_texts(values, conversation[i]) for i, values in fields.items()},
    )


# Built once, values bound at each call: every ticket opened or answered writes its row, and
# building the statement anew (with `.values(...)`) cost more than running it.
_SEARCH = TicketSearch.__table__
_INSERT_SEARCH = _SEARCH.insert()
_UPDATE_SEARCH = _SEARCH.update().where(_SEARCH.c.ticket_id == bindparam("row_ticket_id"))


def _write_search(
    connection: Connection, texts: dict[int, tuple[str, str]], new: frozenset[int] = frozenset()
) -> None:
    """Write these search rows; tickets in `new` were inserted by this flush and have none yet."""
    for ticket_id, (public, internal) in texts.items():
        values = {"public_text": public, "internal_text": internal}
        updated = None
        if ticket_id not in new:
            updated = connection.execute(_UPDATE_SEARCH, {"row_ticket_id": ticket_id, **values})
        if updated is None or updated.rowcount == 0:
            connection.execute(_INSERT_SEARCH, {"ticket_id": ticket_id, **values})


@event.listens_for(Session, "after_flush")
def _follow_search(session: Session, flush_context: object) -> None:
    """Tickets whose subject, references or messages this flush changed: search rows anew.

    A ticket whose conversation is loaded in the session is written from memory (opening a
    ticket and answering one cost one statement); the others are read back from the database.
    """
    changed: set[int] = set()
    unsure: set[int] = set()  # a message was deleted: the loaded list may not show it yet
    # Tickets this flush inserted: not in the identity map until the flush ends, and without
    # a search row yet.
    inserted: dict[int, Ticket] = {}
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Message) and obj.ticket_id is not None:
            changed.add(obj.ticket_id)
            if obj in session.deleted:
                unsure.add(obj.ticket_id)
        elif isinstance(obj, Ticket) and obj not in session.deleted:
            state = inspect(obj)
            if obj in session.new:
                inserted[obj.id] = obj
                changed.add(obj.id)
            elif any(state.attrs[name].history.has_changes() for name in _SEARCHED_TICKET_FIELDS):
                changed.add(obj.id)
    if not changed:
        return
    from_memory: dict[int, tuple[str, str]] = {}
    for ticket_id in changed - unsure:
        ticket = inserted.get(ticket_id) or session.identity_map.get(
            identity_key(Ticket, ticket_id)
        )
        if ticket is not None and "messages" in ticket.__dict__:
            from_memory[ticket_id] = search_texts(
                tuple(getattr(ticket, name) for name in _SEARCHED_TICKET_FIELDS),
                [(m.internal, m.body_text) for m in ticket.messages],
            )
    connection = session.connection()
    _write_search(connection, from_memory, new=frozenset(inserted))
    refresh_search(connection, changed - set(from_memory))


class TicketPresence(db.Model):
    """Which agent has a ticket open right now, and whether they are writing on it: the
    collision warning that keeps two agents from answering the same merchant.

    One row per ticket and agent, refreshed by the open page's heartbeat; a row not refreshed
    for a minute means the agent has gone.
    """

    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("ticket.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the agent last typed in the reply box; None while they only read.
    typing_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class SatisfactionSurvey(db.Model):
    """The merchant's rating of how a ticket was handled: asked once per ticket, on its first
    resolution, by mail (a link per score) and in the portal.

    The agent and queue are those of the resolution, so that the KPIs credit who did the work
    even if the ticket moves later.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), unique=True)
    # SHA-256 of the secret in the mail's links: the database alone cannot rate a ticket.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    category: Mapped[Category] = mapped_column(enum_column(Category, "survey_category"))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    score: Mapped[int | None]  # 1 (bad) to 5 (excellent); None until the merchant rates
    comment: Mapped[str | None] = mapped_column(Text)
    rated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    ticket: Mapped[Ticket] = relationship()
    agent: Mapped[User | None] = relationship()

    __table_args__ = (CheckConstraint("score BETWEEN 1 AND 5", name="score_range"),)


class TicketWatcher(db.Model):
    """An agent following a ticket: told of every new message on it, in the app and by mail.

    Agents follow by choice, or because a colleague mentioned them in an internal note.
    """

    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("ticket.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship()


class NoticeKind(enum.StrEnum):
    MENTION = "mention"  # named in a colleague's internal note
    ACTIVITY = "activity"  # a new message on a ticket the agent follows


class AgentNotice(db.Model):
    """What an agent finds under the bell: mentions and news of followed tickets, unread until
    opened."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("message.id", ondelete="SET NULL"))
    kind: Mapped[NoticeKind] = mapped_column(enum_column(NoticeKind, "notice_kind"))
    actor_name: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    ticket: Mapped[Ticket] = relationship()
    message: Mapped[Message | None] = relationship()

    # The bell counts a user's unread notices: one index read.
    __table_args__ = (Index("ix_agent_notice_user_unread", "user_id", "read_at", "id"),)
