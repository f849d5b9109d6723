"""The agents' queue and the merchants' ticket list: views, filters, sorting and search."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import Select, and_, case, exists, func, or_, select
from sqlalchemy.orm import joinedload

from supportit.db import db
from supportit.models import (
    ACTIVE_STATUSES,
    Category,
    Merchant,
    Message,
    Priority,
    Status,
    Ticket,
    User,
)

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


def _like(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_condition(q: str):
    """Match a reference, the subject, any message body or an order reference (RefNr, TransID,
    PayID). Every word must match somewhere, as people expect of a search box."""
    conditions = []
    for word in q.split()[:8]:
        pattern = _like(word)
        word_matches = [
            Ticket.subject.ilike(pattern, escape="\\"),
            Ticket.ref_nr.ilike(pattern, escape="\\"),
            Ticket.trans_id.ilike(pattern, escape="\\"),
            Ticket.pay_id.ilike(pattern, escape="\\"),
            exists().where(
                Message.ticket_id == Ticket.id, Message.body_text.ilike(pattern, escape="\\")
            ),
        ]
        number = Ticket.number_from_reference(word)
        if number is not None:
            word_matches.append(Ticket.id == number)
        conditions.append(or_(*word_matches))
    return and_(*conditions)


def queue_select(user: User, f: QueueFilter) -> Select[tuple[Ticket]]:
    # Each row shows its merchant and assignee: load them in the same query, not one per row.
    query = select(Ticket).options(joinedload(Ticket.merchant), joinedload(Ticket.assignee))
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
    """How many tickets each view holds, for the sidebar, in one query."""
    active = Ticket.status.in_(ACTIVE_STATUSES)
    columns = [
        func.count().filter(active).label("open"),
        func.count().filter(and_(active, Ticket.assignee_id == user.id)).label("mine"),
        func.count().filter(and_(active, Ticket.assignee_id.is_(None))).label("unassigned"),
        *(func.count().filter(and_(active, Ticket.category == c)).label(c.value) for c in Category),
        func.count().label("all"),
    ]
    row = db.session.execute(select(*columns).select_from(Ticket)).one()
    return dict(row._mapping)


def merchant_tickets_select(merchant: Merchant, show: str, q: str = "") -> Select[tuple[Ticket]]:
    query = select(Ticket).where(Ticket.merchant_id == merchant.id)
    if show == "active":
        query = query.where(Ticket.status.in_(ACTIVE_STATUSES))
    elif show == "done":
        query = query.where(Ticket.status.not_in(ACTIVE_STATUSES))
    if q.strip():
        query = query.where(search_condition(q))
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
