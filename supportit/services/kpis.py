"""Activity KPIs for the team lead: volumes, delays in business hours, SLA, reopenings, where
onboardings wait, and how fast incidents are acknowledged and resolved.

Every figure is computed from stored facts (tickets, their clocks and events, onboarding steps,
alerts) for a period and optional filters; each table can be exported as CSV as shown.
"""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property
from statistics import median, quantiles
from typing import NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from supportit.db import db, utcnow
from supportit.models import (
    ACTIVE_STATUSES,
    Alert,
    AlertSource,
    Article,
    Category,
    Deflection,
    Merchant,
    Message,
    MessageSource,
    Onboarding,
    SlaClock,
    StepStatus,
    Ticket,
    TicketClassification,
    TicketEvent,
    User,
)
from supportit.services import calendar, satisfaction


@dataclass(frozen=True)
class Filters:
    start: date
    end: date  # inclusive
    category: Category | None = None
    merchant_id: int | None = None

    @cached_property
    def since(self) -> datetime:
        return calendar.local_instant(
            datetime.combine(self.start, datetime.min.time()), calendar.current().zone
        )

    @cached_property
    def until(self) -> datetime:
        return calendar.local_instant(
            datetime.combine(self.end + timedelta(days=1), datetime.min.time()),
            calendar.current().zone,
        )


@dataclass
class Table:
    key: str
    columns: list[str]
    rows: list[list[object]] = field(default_factory=list)

    def csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(self.columns)
        for row in self.rows:
            writer.writerow(["" if value is None else value for value in row])
        return out.getvalue()


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 1)


def _p90(values: list[float]) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return quantiles(values, n=10, method="inclusive")[8]


class _Opened(NamedTuple):
    """What the KPIs need of a ticket opened in the period: columns, not a loaded ticket with
    its conversation (thousands of tickets a quarter, five messages each)."""

    id: int
    category: Category
    merchant_id: int | None
    created_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    channel: MessageSource | None  # the first message's


def _scoped(query, filters: Filters):  # type: ignore[no-untyped-def]
    if filters.category is not None:
        query = query.where(Ticket.category == filters.category)
    if filters.merchant_id is not None:
        query = query.where(Ticket.merchant_id == filters.merchant_id)
    return query


def _opened_in_period(filters: Filters):  # type: ignore[no-untyped-def]
    return _scoped(
        select(Ticket.id).where(
            Ticket.created_at >= filters.since, Ticket.created_at < filters.until
        ),
        filters,
    )


def _tickets(filters: Filters) -> list[_Opened]:
    query = select(
        Ticket.id,
        Ticket.category,
        Ticket.merchant_id,
        Ticket.created_at,
        Ticket.first_response_at,
        Ticket.resolved_at,
        Ticket.closed_at,
    ).where(Ticket.created_at >= filters.since, Ticket.created_at < filters.until)
    rows = db.session.execute(_scoped(query, filters)).all()
    # The first message's channel, by one grouped query over the message index (a subquery per
    # ticket let PostgreSQL's planner walk all messages in id order when its statistics were off).
    first_ids = (
        select(func.min(Message.id))
        .where(Message.ticket_id.in_(_opened_in_period(filters)))
        .group_by(Message.ticket_id)
    )
    channels = dict(
        db.session.execute(
            select(Message.ticket_id, Message.source).where(Message.id.in_(first_ids))
        ).all()
    )
    return [_Opened(*row, channels.get(row.id)) for row in rows]


def _week(instant: datetime, zone: ZoneInfo) -> str:
    local = instant.astimezone(zone).date()
    monday = local - timedelta(days=local.weekday())
    return monday.isoformat()


def compute(filters: Filters) -> dict[str, Table]:
    business = calendar.current()
    tickets = _tickets(filters)
    tables: dict[str, Table] = {}

    # Tickets opened per week, by category and channel (the first message's channel).
    per_week: Counter[tuple[str, str, str]] = Counter()
    for ticket in tickets:
        channel = ticket.channel.value if ticket.channel else "web"
        per_week[(_week(ticket.created_at, business.zone), ticket.category.value, channel)] += 1
    tables["opened"] = Table(
        "opened",
        ["week", "category", "channel", "tickets"],
        [[w, c, ch, n] for (w, c, ch), n in sorted(per_week.items())],
    )

    # Delays in business hours, median and p90, by category.
    first: dict[str, list[float]] = defaultdict(list)
    resolution: dict[str, list[float]] = defaultdict(list)
    for ticket in tickets:
        if ticket.first_response_at:
            first[ticket.category.value].append(
                business.between(ticket.created_at, ticket.first_response_at).total_seconds()
            )
        if ticket.resolved_at:
            resolution[ticket.category.value].append(
                business.between(ticket.created_at, ticket.resolved_at).total_seconds()
            )
    rows = []
    for category in sorted({t.category.value for t in tickets}):
        f, r = first.get(category, []), resolution.get(category, [])
        rows.append(
            [
                category,
                len(f),
                _hours(median(f)) if f else None,
                _hours(_p90(f)),
                len(r),
                _hours(median(r)) if r else None,
                _hours(_p90(r)),
            ]
        )
    tables["delays"] = Table(
        "delays",
        [
            "category",
            "answered",
            "first_response_median_h",
            "first_response_p90_h",
            "resolved",
            "resolution_median_h",
            "resolution_p90_h",
        ],
        rows,
    )

    # SLA compliance: clocks that finished (met or breached) in the period.
    compliance: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    clocks = select(SlaClock.kind, SlaClock.met_at, SlaClock.breached_at).where(
        SlaClock.ticket_id.in_(_opened_in_period(filters)),
        or_(SlaClock.met_at.is_not(None), SlaClock.breached_at.is_not(None)),
    )
    for kind, met_at, breached_at in db.session.execute(clocks):
        compliance[kind.value][0] += 1
        if breached_at is None or (met_at and met_at <= breached_at):
            compliance[kind.value][1] += 1
    tables["sla"] = Table(
        "sla",
        ["clock", "finished", "within_target", "compliance_percent"],
        [
            [k, n, ok, round(100 * ok / n, 1) if n else None]
            for k, (n, ok) in sorted(compliance.items())
        ],
    )

    # Backlog now, reopen rate, top merchants.
    backlog = db.session.execute(
        _scoped(
            select(Ticket.category, func.count())
            .where(Ticket.status.in_(ACTIVE_STATUSES))
            .group_by(Ticket.category),
            filters,
        )
    ).all()
    tables["backlog"] = Table(
        "backlog",
        ["category", "open_tickets"],
        sorted([c.value, n] for c, n in backlog),
    )
    opened = _opened_in_period(filters)
    reopened = set(
        db.session.scalars(
            select(TicketEvent.ticket_id)
            .where(TicketEvent.ticket_id.in_(opened), TicketEvent.action == "reopened")
            .distinct()
        )
    )
    # Ever resolved or closed: resolved or closed now, or reopened (a ticket is "reopened" only
    # from resolved or closed, and loses its resolved_at then). Reading every resolution from
    # the event log instead cost a scan of all events.
    finished = reopened | {t.id for t in tickets if t.resolved_at or t.closed_at}
    resolved_count = len(finished)
    tables["reopen"] = Table(
        "reopen",
        ["resolved_or_closed", "reopened", "reopen_rate_percent"],
        [
            [
                resolved_count,
                len(reopened),
                round(100 * len(reopened) / resolved_count, 1) if resolved_count else None,
            ]
        ],
    )
    names = dict(db.session.execute(select(Merchant.id, Merchant.name)).all())
    top = Counter(t.merchant_id for t in tickets if t.merchant_id is not None).most_common(10)
    tables["merchants"] = Table(
        "merchants", ["merchant", "tickets"], [[names.get(m, m), n] for m, n in top]
    )

    tables.update(_onboarding_tables(filters, business))
    tables["incidents"] = _incidents(filters)
    tables["deflected"] = _deflected(filters)
    tables["classification"] = _classification(filters)
    tables.update(_satisfaction(filters))
    tables.update(_time_spent(filters))
    return tables


def _time_spent(filters: Filters) -> dict[str, Table]:
    """The time agents logged on their answers in the period, by queue and by agent."""

    def table(key: str, group) -> Table:  # type: ignore[no-untyped-def]
        statement = (
            select(
                group, func.count(func.distinct(Message.ticket_id)), func.sum(Message.time_spent)
            )
            .join(Ticket, Ticket.id == Message.ticket_id)
            .join(User, User.id == Message.author_id)
            .where(
                Message.time_spent.is_not(None),
                Message.created_at >= filters.since,
                Message.created_at < filters.until,
            )
            .group_by(group)
            .order_by(group)
        )
        return Table(
            key,
            [key.removeprefix("time_"), "tickets", "hours", "minutes_per_ticket"],
            [
                [getattr(name, "value", name), n, round(minutes / 60, 1), round(minutes / n)]
                for name, n, minutes in db.session.execute(_scoped(statement, filters))
            ],
        )

    return {
        "time_category": table("time_category", Ticket.category),
        "time_agent": table("time_agent", User.name),
    }


def _satisfaction(filters: Filters) -> dict[str, Table]:
    """Ratings of the tickets resolved in the period (surveys sent), by queue and by agent."""
    by_category, by_agent = satisfaction.scores(
        filters.since, filters.until, category=filters.category, merchant_id=filters.merchant_id
    )
    columns = ["surveys_sent", "ratings", "response_percent", "average_score"]

    def row(score: satisfaction.Score) -> list[object]:
        return [score.asked, score.rated, score.response_percent, score.average]

    return {
        "satisfaction_category": Table(
            "satisfaction_category",
            ["category", *columns],
            [[c.value, *row(by_category[c])] for c in Category if c in by_category],
        ),
        "satisfaction_agent": Table(
            "satisfaction_agent",
            ["agent", *columns],
            [[name or "—", *row(score)] for name, score in sorted(by_agent.items())],
        ),
    }


def _classification(filters: Filters) -> Table:
    """How often agents kept the classifier's queue, by the queue it proposed."""
    rows = db.session.execute(
        select(
            TicketClassification.category,
            TicketClassification.confirmed_category,
            TicketClassification.chosen_category,
        ).where(TicketClassification.ticket_id.in_(_opened_in_period(filters)))
    ).all()
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for proposed, confirmed, chosen in rows:
        line = counts[proposed]
        line[0] += 1
        line[1] += chosen is not None and chosen != proposed  # the merchant chose otherwise
        if confirmed is not None:
            line[2] += 1
            line[3] += confirmed == proposed
    return Table(
        "classification",
        [
            "category",
            "classified",
            "merchant_chose_otherwise",
            "decided_by_agents",
            "agreement_percent",
        ],
        [
            [c, n, other, decided, round(100 * kept / decided, 1) if decided else None]
            for c, (n, other, decided, kept) in sorted(counts.items())
        ],
    )


def _deflected(filters: Filters) -> Table:
    """Tickets not opened because an article answered the merchant, by article."""
    statement = (
        select(Article.slug, func.count(Deflection.id))
        .join(Article, Article.id == Deflection.article_id)
        .where(Deflection.at >= filters.since, Deflection.at < filters.until)
        .group_by(Article.slug)
        .order_by(func.count(Deflection.id).desc(), Article.slug)
    )
    if filters.merchant_id is not None:
        statement = statement.where(Deflection.merchant_id == filters.merchant_id)
    if filters.category is not None:
        statement = statement.where(Deflection.category == filters.category.value)
    return Table(
        "deflected",
        ["article", "tickets_avoided"],
        [[a, n] for a, n in db.session.execute(statement)],
    )


def _onboarding_tables(filters: Filters, business) -> dict[str, Table]:  # type: ignore[no-untyped-def]
    """Lead time per step (business days) and where onboardings wait longest right now."""
    query = select(Onboarding).options(selectinload(Onboarding.steps))
    if filters.merchant_id is not None:
        query = query.where(Onboarding.merchant_id == filters.merchant_id)
    onboardings = list(db.session.scalars(query))
    now = utcnow()
    day_seconds = _business_day_seconds(business)
    done_days: dict[tuple[int, str], list[float]] = defaultdict(list)
    waiting: dict[tuple[int, str], list[float]] = defaultdict(list)
    totals = []
    for onboarding in onboardings:
        for step in onboarding.steps:
            if step.started_at is None:
                continue
            end = step.done_at or now
            days = business.between(step.started_at, end).total_seconds() / day_seconds
            if step.status is StepStatus.DONE:
                if step.done_at and filters.since <= step.done_at < filters.until:
                    done_days[(step.position, step.title)].append(days)
            else:
                waiting[(step.position, step.title)].append(days)
        if onboarding.live_at and filters.since <= onboarding.live_at < filters.until:
            totals.append(
                business.between(onboarding.started_at, onboarding.live_at).total_seconds()
                / day_seconds
            )
    lead = Table(
        "onboarding_steps",
        ["step", "completed", "median_business_days", "p90_business_days"],
        [
            [title, len(values), round(median(values), 1), round(_p90(values) or 0, 1)]
            for (_, title), values in sorted(done_days.items())
        ],
    )
    if totals:
        lead.rows.append(
            [
                "total (signature → go-live)",
                len(totals),
                round(median(totals), 1),
                round(_p90(totals) or 0, 1),
            ]
        )
    blocking = Table(
        "blocking",
        ["step", "onboardings_waiting", "longest_wait_business_days", "mean_wait_business_days"],
        sorted(
            (
                [title, len(v), round(max(v), 1), round(sum(v) / len(v), 1)]
                for (_, title), v in waiting.items()
            ),
            key=lambda row: -float(row[2]),  # type: ignore[arg-type]
        ),
    )
    return {"onboarding_steps": lead, "blocking": blocking}


def _business_day_seconds(business) -> float:  # type: ignore[no-untyped-def]
    opens = datetime.combine(date.today(), business.opens)
    closes = datetime.combine(date.today(), business.closes)
    return (closes - opens).total_seconds()


def _incidents(filters: Filters) -> Table:
    alerts = db.session.scalars(
        select(Alert).where(
            Alert.source == AlertSource.MONITOR,
            Alert.opened_at >= filters.since,
            Alert.opened_at < filters.until,
        )
    ).all()
    ack = [
        (a.acknowledged_at - a.opened_at).total_seconds() / 60 for a in alerts if a.acknowledged_at
    ]
    res = [(a.resolved_at - a.opened_at).total_seconds() / 60 for a in alerts if a.resolved_at]
    return Table(
        "incidents",
        [
            "incidents",
            "acknowledged",
            "ack_median_min",
            "ack_p90_min",
            "resolved",
            "resolve_median_min",
            "resolve_p90_min",
        ],
        [
            [
                len(alerts),
                len(ack),
                round(median(ack), 1) if ack else None,
                round(_p90(ack), 1) if ack else None,
                len(res),
                round(median(res), 1) if res else None,
                round(_p90(res), 1) if res else None,
            ]
        ],
    )


def weekly_series(table: Table) -> list[tuple[str, dict[str, int]]]:
    """Tickets per week split by category, for the stacked bar chart."""
    weeks: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for week, category, _channel, count in table.rows:
        weeks[str(week)][str(category)] += int(count)  # type: ignore[call-overload]
    return sorted((w, dict(c)) for w, c in weeks.items())
