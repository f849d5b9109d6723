"""The agents' queue and the merchants' ticket list: views, filters, sorting and search."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from flask_sqlalchemy.pagination import SelectPagination
from sqlalchemy import (
    Boolean,
    ColumnElement,
    Integer,
    Select,
    and_,
    bindparam,
    case,
    column,
    func,
    literal,
    or_,
    select,
    text,
    true,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal, replacement_traverse

from supportit.db import db, on_postgresql
from supportit.models import (
    ACTIVE_STATUSES,
    Category,
    Merchant,
    Priority,
    Status,
    Ticket,
    User,
)
from supportit.models.ticket import PG_ALL_VECTOR, PG_PUBLIC_VECTOR, TicketSearch

# Loaded with a ticket list, not one query per row: the merchants joined to the rows, the
# assignees (a handful of agents, fourteen columns each) in one query of their own, which on
# PostgreSQL is faster than repeating them on each of 25 rows.
ROW_OPTIONS = (joinedload(Ticket.merchant), selectinload(Ticket.assignee))

# View key → which tickets it holds. Category views show the active tickets of that queue.
VIEWS = ("open", "mine", "unassigned", *(c.value for c in Category), "all")

SORTS = {
    "sla": Ticket.sla_due_at,
    "updated": Ticket.updated_at,
    "created": Ticket.created_at,
    "priority": Ticket.priority,
    "reference": Ticket.id,
    "status": case(*((Ticket.status == s, i) for i, s in enumerate(Status)), else_=len(Status)),
}


@dataclass
class QueueFilter:
    view: str = "open"
    status: Status | None = None
    priority: Priority | None = None
    merchant_id: int | None = None
    assignee_id: int | None = None  # 0 means "unassigned"
    q: str = ""
    sort: str = "sla"
    descending: bool = True
    # Calendar days in the team's time zone, both included.
    created_from: date | None = None
    created_to: date | None = None


# The query-string parameters of a queue view, as a saved view keeps them.
FILTER_KEYS = (
    "view",
    "q",
    "status",
    "priority",
    "merchant",
    "assignee",
    "created_from",
    "created_to",
    "sort",
    "dir",
)


def filter_from_args(args: Mapping[str, str]) -> tuple[QueueFilter, list[str]]:
    """The queue filter from a query string; unknown values are reported, not guessed."""
    problems: list[str] = []
    f = QueueFilter(q=args.get("q", "")[:200])

    def choice(name: str, allowed, convert=str):  # type: ignore[no-untyped-def]
        value = args.get(name, "")
        if not value:
            return None
        if value not in allowed:
            problems.append(name)
            return None
        return convert(value)

    f.view = choice("view", VIEWS) or "open"
    f.status = choice("status", {s.value for s in Status}, Status)
    f.priority = choice("priority", {p.value for p in Priority}, Priority)
    # Most urgent first by default: the nearest SLA deadline.
    f.sort = choice("sort", SORTS) or "sla"
    f.descending = args.get("dir", "desc") != "asc"
    for name in ("created_from", "created_to"):
        value = args.get(name, "")
        if value:
            try:
                setattr(f, name, date.fromisoformat(value))
            except ValueError:
                problems.append(name)
    for name in ("merchant", "assignee"):
        value = args.get(name, "")
        if value == "":
            continue
        if not value.isdigit():
            problems.append(name)
            continue
        setattr(f, f"{name}_id", int(value))
    return f, problems


def start_of_day(day: date) -> datetime:
    """Midnight of `day` in the team's time zone, as an aware instant (DST-safe)."""
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return datetime.combine(day, time.min, tzinfo=zone)


def _view_condition(view: str, user: User):
    active = Ticket.status.in_(ACTIVE_STATUSES)
    if view == "mine":
        return and_(active, Ticket.assignee_id == user.id)
    if view == "unassigned":
        return and_(active, Ticket.assignee_id.is_(None))
    if view in {c.value for c in Category}:
        return and_(active, Ticket.category == Category(view))
    if view == "all":
        return None
    return active


_TOKEN = re.compile(r"[^\W_]+")
MAX_SEARCH_WORDS = 8


def search_tokens(word: str) -> list[str]:
    """The index's tokens of one query word: runs of letters and digits, lowercased."""
    return _TOKEN.findall(word.lower())


def _ids_matching(tokens: list[str], include_internal: bool) -> Select[tuple[int]]:
    """Ids of the tickets whose text (models.TicketSearch) holds words starting with each of
    `tokens`; merchants' searches read the public text only."""
    if on_postgresql():
        vector = PG_ALL_VECTOR if include_internal else PG_PUBLIC_VECTOR
        query = " & ".join(f"{token}:*" for token in tokens)  # tokens are [[:alnum:]] only
        # Gathered once from the GIN index, in a CTE that both the page and its count read.
        # MATERIALIZED keeps the planner from folding the match into a join that recomputes
        # the expression row by row along the sort's index (seconds for a frequent word).
        matches = (
            select(TicketSearch.ticket_id)
            .where(
                text(f"{vector} @@ to_tsquery('simple', :q)").bindparams(
                    bindparam("q", query, unique=True)
                )
            )
            .cte()
            .prefix_with("MATERIALIZED")
        )
        return select(matches.c.ticket_id)
    # FTS5: every token as a prefix; a column filter keeps merchants to the public text.
    query = " ".join(f'"{token}"*' for token in tokens)
    if not include_internal:
        query = f"public_text : ({query})"
    return (
        select(column("rowid", Integer))
        .select_from(text("ticket_fts"))
        .where(text("ticket_fts MATCH :q").bindparams(bindparam("q", query, unique=True)))
    )


class _ProbedInOrder(ColumnElement[bool]):
    """`ticket.id IN (matches)`, written `(… OR false)` for PostgreSQL.

    As a plain IN, PostgreSQL turns the match into a join: it looks up every match (36,000
    for a word in a third of the tickets) and sorts them all for a page of 25. Inside an OR
    it cannot, so it walks the sort's index in order and probes a hash of the matches,
    stopping at the page's last row: 82 ms became 55 for "MAC HMAC" at 100,000 tickets. The
    planner removes the `OR false` only after that choice. Counting wants the join, which
    stops at the count's limit: `_capped_count` unwraps these (`_plain_matches`).
    """

    inherit_cache = True
    type = Boolean()
    _traverse_internals = [("condition", InternalTraversal.dp_clauseelement)]

    def __init__(self, condition: ColumnElement[bool]) -> None:
        self.condition = condition


@compiles(_ProbedInOrder)
def _compile_probed(element: _ProbedInOrder, compiler: SQLCompiler, **kw: Any) -> str:
    return f"({compiler.process(element.condition, **kw)} OR false)"


def _plain_matches(statement: Select) -> Select:  # type: ignore[type-arg]
    """`statement` with its searches as plain IN conditions again, for counting. The CTEs
    stay the same objects, so that a page and its count share their matches."""
    if not on_postgresql():
        return statement  # nothing to unwrap, and a copy costs a tenth of a millisecond
    return replacement_traverse(
        statement,
        {},
        lambda element: element.condition if isinstance(element, _ProbedInOrder) else None,
    )


def search_condition(q: str, include_internal: bool = True):
    """Tickets matching every word of `q` in their subject, an order reference (RefNr,
    TransID, PayID) or a message, as the start of a word; or by their reference. Punctuation
    separates words, as in the index: "CMD-4242" finds CMD-4242. Merchants' searches leave
    internal notes out, so that a note's words cannot be probed."""
    words = q.split()[:MAX_SEARCH_WORDS]
    postgresql = on_postgresql()
    plain: list[str] = []
    conditions: list[ColumnElement[bool]] = []
    for word in words:
        number = Ticket.number_from_reference(word)
        if number is None:
            plain += search_tokens(word)
            continue
        # A reference, or words that look like one ("2024"): either will do.
        matches = _ids_matching(search_tokens(word), include_internal)
        if postgresql:  # one list of ids, which a count can join (see _ProbedInOrder)
            matching = Ticket.id.in_(matches.union_all(select(literal(number, Integer))))
            conditions.append(_ProbedInOrder(matching))
        else:
            conditions.append(or_(Ticket.id == number, Ticket.id.in_(matches)))
    if plain:
        # One match for all the other words: the index intersects them at once.
        matching = Ticket.id.in_(_ids_matching(plain, include_internal))
        conditions.append(_ProbedInOrder(matching) if postgresql else matching)
    return and_(true(), *conditions)


def queue_select(user: User, f: QueueFilter) -> Select[tuple[Ticket]]:
    # Each row shows its merchant and assignee: load them in the same query, not one per row.
    query = select(Ticket).options(*ROW_OPTIONS)
    view = _view_condition(f.view, user)
    if view is not None:
        query = query.where(view)
    if f.status is not None:
        query = query.where(Ticket.status == f.status)
    if f.priority is not None:
        query = query.where(Ticket.priority == f.priority)
    if f.merchant_id is not None:
        query = query.where(Ticket.merchant_id == f.merchant_id)
    if f.assignee_id == 0:
        query = query.where(Ticket.assignee_id.is_(None))
    elif f.assignee_id is not None:
        query = query.where(Ticket.assignee_id == f.assignee_id)
    if f.q.strip():
        query = query.where(search_condition(f.q))
    if f.created_from is not None:
        query = query.where(Ticket.created_at >= start_of_day(f.created_from))
    if f.created_to is not None:
        query = query.where(Ticket.created_at < start_of_day(f.created_to + timedelta(days=1)))
    if f.sort == "sla":
        # Least time left first; tickets whose clocks are paused or stopped come after.
        return query.order_by(Ticket.sla_due_at.is_(None), Ticket.sla_due_at.asc(), Ticket.id)
    column = SORTS.get(f.sort, Ticket.updated_at)
    ordering = column.desc() if f.descending else column.asc()
    # The id breaks ties so that paging is stable.
    tiebreak = Ticket.id.desc() if f.descending else Ticket.id.asc()
    return query.order_by(ordering, tiebreak)


def view_counts(user: User) -> dict[str, int]:
    """How many tickets each active view holds, for the sidebar.

    Counted over the active tickets only, which the status index finds without reading the
    years of closed ones. "All" has no count: it would read every ticket ever, on every page.
    """
    columns = [
        func.count().label("open"),
        func.count().filter(Ticket.assignee_id == user.id).label("mine"),
        func.count().filter(Ticket.assignee_id.is_(None)).label("unassigned"),
        *(func.count().filter(Ticket.category == c).label(c.value) for c in Category),
    ]
    row = db.session.execute(
        select(*columns).select_from(Ticket).where(Ticket.status.in_(ACTIVE_STATUSES))
    ).one()
    return dict(row._mapping)


# A search counts its matches up to this many: past it the page says "more than 1,000" (a
# common word can match a third of all tickets, and counting them all is what would be slow).
SEARCH_COUNT_LIMIT = 1000


def count(user: User, f: QueueFilter, limit: int = SEARCH_COUNT_LIMIT) -> tuple[int, bool]:
    """(how many tickets the filter finds, up to `limit`; whether there were more)."""
    return _capped_count(db.session, queue_select(user, f), limit)


def _capped_count(session, statement, limit: int | None) -> tuple[int, bool]:  # type: ignore[no-untyped-def]
    """(the statement's tickets, counted up to `limit`; whether there were more). Counting stops
    past the limit: a common search word can match a third of all tickets."""
    total = session.scalar(_capped_count_select(statement, limit)) or 0
    more = limit is not None and total > limit
    return (limit if more else total), more


def _capped_count_select(statement: Select, limit: int | None) -> Select[tuple[int]]:  # type: ignore[type-arg]
    if limit is None:
        ids = statement.with_only_columns(Ticket.id).order_by(None)
    else:  # a search, or a count that may be one
        ids = _plain_matches(statement).with_only_columns(Ticket.id).order_by(None).limit(limit + 1)
    return select(func.count()).select_from(ids.subquery())


class TicketPagination(SelectPagination):
    """Pages that stay fast deep into years of tickets.

    An OFFSET over whole rows makes the database read and discard every row before the page;
    here the page's ids come first, from the sort's index alone (an index holds the id), and
    only those rows are then loaded with their merchant and assignee.
    """

    # Set by _query_items when the page's ids came with the count of all matches.
    _matches: int | None = None

    def _query_items(self) -> list[Ticket]:
        statement = self._query_args["select"]
        session = self._query_args["session"]
        ids_query = statement.with_only_columns(Ticket.id)
        counted = self._counts_with_page()
        if counted:
            # A search on PostgreSQL gathers its matches once (a CTE) for the page and the
            # count; as a query of its own, the count gathered them again. A view's count runs
            # once beside the page (an InitPlan) and saves a round trip.
            count = _capped_count_select(statement, self._query_args["count_limit"])
            ids_query = ids_query.add_columns(count.scalar_subquery())
        rows = session.execute(ids_query.limit(self.per_page).offset(self._query_offset)).all()
        if not rows:
            return []
        if counted:
            self._matches = rows[0][1]
        ids = [row[0] for row in rows]
        tickets = session.scalars(select(Ticket).options(*ROW_OPTIONS).where(Ticket.id.in_(ids)))
        by_id = {ticket.id: ticket for ticket in tickets.unique()}
        return [by_id[i] for i in ids if i in by_id]

    def _counts_with_page(self) -> bool:
        """Whether the page's query also counts the matches: on PostgreSQL, where a statement
        is a round trip to the server. SQLite's full-text matches are counted faster on their
        own, and SQLite has no round trip to save."""
        return on_postgresql()

    def _query_count(self) -> int:
        limit = self._query_args["count_limit"]
        if self._matches is not None:
            self.more = limit is not None and self._matches > limit
            return limit if self.more else self._matches
        total, self.more = _capped_count(
            self._query_args["session"], self._query_args["select"], limit
        )
        return total


def paginate(
    statement: Select[tuple[Ticket]], *, per_page: int, count_limit: int | None = None
) -> TicketPagination:
    """`db.paginate` for ticket lists: the page from the query string; past the end, no 404.
    With `count_limit`, `total` stops there and `more` says there were more."""
    return TicketPagination(
        select=statement,
        session=db.session(),
        page=None,
        per_page=per_page,
        max_per_page=None,
        error_out=False,
        count=True,
        count_limit=count_limit,
    )


def merchant_tickets_select(merchant: Merchant, show: str, q: str = "") -> Select[tuple[Ticket]]:
    query = select(Ticket).where(Ticket.merchant_id == merchant.id)
    if show == "active":
        query = query.where(Ticket.status.in_(ACTIVE_STATUSES))
    elif show == "done":
        query = query.where(Ticket.status.not_in(ACTIVE_STATUSES))
    if q.strip():
        query = query.where(search_condition(q, include_internal=False))
    return query.order_by(Ticket.updated_at.desc(), Ticket.id.desc())


def other_open_tickets(ticket: Ticket, limit: int = 10) -> list[Ticket]:
    return list(
        db.session.scalars(
            select(Ticket)
            .where(
                Ticket.merchant_id == ticket.merchant_id,
                Ticket.id != ticket.id,
                Ticket.status.in_(ACTIVE_STATUSES),
            )
            .order_by(Ticket.updated_at.desc())
            .limit(limit)
        )
    )
