"""SLA clocks: first-response and resolution targets, counted in business time.

A ticket's clocks follow its status: they run while the ticket waits on the team (new, open),
pause while it waits on the merchant, and stop when the team answered (first response) or the
ticket is resolved (resolution). `sync` derives all of that from the ticket as it now is, so
every service calls it after a change and it never matters how the change came about.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import g
from sqlalchemy import bindparam, select

from supportit.db import db, utcnow
from supportit.i18n import lazy_gettext as _l
from supportit.models import (
    Category,
    Priority,
    SlaClock,
    SlaKind,
    SlaPolicy,
    Status,
    Ticket,
    User,
)
from supportit.services import calendar, notify, users
from supportit.services.errors import ServiceError

RUNNING = (Status.NEW, Status.OPEN)
WARNING_SHARE = 0.8  # agents are warned when 80% of a target is used


@dataclass(frozen=True)
class Target:
    first_response_minutes: int
    resolution_minutes: int
    wall_clock: bool = False


# Business-time targets by priority; a production incident in RUN at P1 counts wall-clock time.
DEFAULT_TARGETS = {
    Priority.P1: Target(60, 8 * 60),
    Priority.P2: Target(4 * 60, 2 * 9 * 60),
    Priority.P3: Target(9 * 60, 5 * 9 * 60),
    Priority.P4: Target(2 * 9 * 60, 10 * 9 * 60),
}
RUN_P1_TARGET = Target(30, 4 * 60, wall_clock=True)


def default_target(category: Category, priority: Priority) -> Target:
    if category is Category.RUN and priority is Priority.P1:
        return RUN_P1_TARGET
    return DEFAULT_TARGETS[priority]


# Built once: every ticket change runs it, and building it costs more than running it.
_POLICY = select(SlaPolicy).where(
    SlaPolicy.category == bindparam("category"), SlaPolicy.priority == bindparam("priority")
)


def _policy(category: Category, priority: Priority) -> SlaPolicy | None:
    # Policies are saved on their own (set_policy commits): a ticket change in progress has
    # nothing to flush for this read, and flushing it here would write the ticket twice.
    with db.session.no_autoflush:
        return db.session.scalar(_POLICY, {"category": category, "priority": priority})


def _target(policy: SlaPolicy) -> Target:
    return Target(policy.first_response_minutes, policy.resolution_minutes, policy.wall_clock)


def target_for(category: Category, priority: Priority) -> Target:
    policy = _policy(category, priority)
    return default_target(category, priority) if policy is None else _target(policy)


def policy_table() -> list[tuple[Category, Priority, Target, bool]]:
    """Every (category, priority) with its target and whether an admin changed it."""
    custom = {(p.category, p.priority): p for p in db.session.scalars(select(SlaPolicy))}
    rows = []
    for category in Category:
        for priority in Priority:
            policy = custom.get((category, priority))
            if policy is None:
                rows.append((category, priority, default_target(category, priority), False))
            else:
                rows.append((category, priority, _target(policy), True))
    return rows


def set_policy(actor: User, category: Category, priority: Priority, target: Target) -> SlaPolicy:
    """An admin sets a target. Running clocks of matching tickets follow it from now on."""
    if not actor.is_admin:
        raise ServiceError(_l("Only administrators can change service levels."))
    if target.first_response_minutes < 1 or target.resolution_minutes < 1:
        raise ServiceError(_l("Targets must be at least one minute."))
    if target.first_response_minutes > target.resolution_minutes:
        raise ServiceError(_l("The first response cannot be due after the resolution."))
    policy = _policy(category, priority)
    if policy is None:
        policy = SlaPolicy(category=category, priority=priority)
        db.session.add(policy)
    policy.first_response_minutes = target.first_response_minutes
    policy.resolution_minutes = target.resolution_minutes
    policy.wall_clock = target.wall_clock
    policy.updated_by_id = actor.id
    db.session.flush()
    for ticket in db.session.scalars(
        select(Ticket).where(
            Ticket.category == category,
            Ticket.priority == priority,
            Ticket.status.in_([*RUNNING, Status.PENDING_MERCHANT]),
        )
    ):
        sync(ticket)
    db.session.commit()
    return policy


def team_calendar() -> calendar.BusinessCalendar:
    """The calendar, read once per request or job (it holds the admins' closed days)."""
    if "business_calendar" not in g:
        g.business_calendar = calendar.current()
    return g.business_calendar


def _elapsed(clock: SlaClock, start: datetime, end: datetime) -> timedelta:
    if clock.wall_clock:
        return end - start
    return team_calendar().between(start, end)


def _after(clock: SlaClock, start: datetime, duration: timedelta) -> datetime:
    if duration <= timedelta(0):
        return start
    if clock.wall_clock:
        return start + duration
    return team_calendar().add(start, duration)


def clocks(ticket: Ticket) -> dict[SlaKind, SlaClock]:
    return {clock.kind: clock for clock in ticket.sla_clocks}


def sync(ticket: Ticket, now: datetime | None = None) -> None:
    """Bring the ticket's clocks in line with its status, category and priority. No commit."""
    # No flush from here: a conflicting change must surface at the caller's commit, where it
    # becomes a StaleTicket, not in the middle of this bookkeeping.
    with db.session.no_autoflush:
        _sync(ticket, now or utcnow())


def _sync(ticket: Ticket, now: datetime) -> None:
    target = target_for(ticket.category, ticket.priority)
    existing = clocks(ticket)
    for kind, minutes in (
        (SlaKind.FIRST_RESPONSE, target.first_response_minutes),
        (SlaKind.RESOLUTION, target.resolution_minutes),
    ):
        clock = existing.get(kind)
        if clock is None:
            clock = SlaClock(
                kind=kind,
                target_minutes=minutes,
                wall_clock=target.wall_clock,
                consumed_seconds=0,
                running_since=None,
            )
            ticket.sla_clocks.append(clock)
        _follow(clock, ticket, minutes, target.wall_clock, now)
    due = [c.due_at for c in ticket.sla_clocks if c.due_at is not None]
    ticket.sla_due_at = min(due) if due else None


def _follow(clock: SlaClock, ticket: Ticket, minutes: int, wall_clock: bool, now: datetime) -> None:
    if clock.kind is SlaKind.FIRST_RESPONSE:
        met = ticket.first_response_at is not None
    else:
        met = not ticket.status.is_active
    if clock.running_since is not None:
        # Stop the clock before any change, so consumed time is counted under the old rules.
        clock.consumed_seconds += int(_elapsed(clock, clock.running_since, now).total_seconds())
        clock.running_since = None
    if met:
        if clock.met_at is None:
            clock.met_at = now
            if clock.consumed_seconds > minutes * 60 and clock.breached_at is None:
                clock.breached_at = now
        clock.due_at = clock.warn_at = None
        return
    clock.met_at = None  # reopened: the resolution clock goes on from where it stopped
    if (clock.target_minutes, clock.wall_clock) != (minutes, wall_clock):
        clock.target_minutes, clock.wall_clock = minutes, wall_clock
    if ticket.status not in RUNNING:
        clock.due_at = clock.warn_at = None  # paused: waiting on the merchant
        return
    clock.running_since = now
    clock.due_at = _after(clock, now, clock.target - clock.consumed)
    clock.warn_at = _after(clock, now, clock.target * WARNING_SHARE - clock.consumed)


@dataclass(frozen=True)
class ClockView:
    kind: SlaKind
    target: timedelta
    remaining: timedelta  # negative when overdue
    running: bool
    met: bool
    breached: bool
    due_at: datetime | None
    wall_clock: bool

    @property
    def late(self) -> bool:
        return self.remaining < timedelta(0)

    @property
    def used_share(self) -> float:
        total = self.target.total_seconds()
        return 1.0 if total <= 0 else 1 - self.remaining.total_seconds() / total


def view(ticket: Ticket, now: datetime | None = None) -> list[ClockView]:
    """What the ticket page shows: each clock's remaining time as of `now`."""
    now = now or utcnow()
    views = []
    for clock in sorted(ticket.sla_clocks, key=lambda c: list(SlaKind).index(c.kind)):
        consumed = clock.consumed
        if clock.running_since is not None:
            consumed += _elapsed(clock, clock.running_since, now)
        remaining = clock.target - consumed
        views.append(
            ClockView(
                kind=clock.kind,
                target=clock.target,
                remaining=remaining,
                running=clock.running_since is not None,
                met=clock.met_at is not None,
                breached=clock.breached_at is not None or remaining < timedelta(0),
                due_at=clock.due_at,
                wall_clock=clock.wall_clock,
            )
        )
    return views


KIND_LABELS = {
    SlaKind.FIRST_RESPONSE: _l("first response"),
    SlaKind.RESOLUTION: _l("resolution"),
}


def check(now: datetime | None = None) -> tuple[int, int]:
    """Warn at 80% and record breaches, once each; returns (warnings, breaches).

    Run every minute by the scheduler. Both are read from stored due instants, so a restart
    or a second run in the same minute changes nothing.
    """
    now = now or utcnow()
    running = (SlaClock.met_at.is_(None), SlaClock.running_since.is_not(None))
    warnings = db.session.scalars(
        select(SlaClock).where(*running, SlaClock.warned_at.is_(None), SlaClock.warn_at <= now)
    ).all()
    for clock in warnings:
        clock.warned_at = now
        if clock.due_at is not None and clock.due_at > now:
            _tell(clock, breached=False)
    breaches = db.session.scalars(
        select(SlaClock).where(*running, SlaClock.breached_at.is_(None), SlaClock.due_at <= now)
    ).all()
    for clock in breaches:
        # The instant it was missed, not when we noticed: the KPIs count the former.
        clock.breached_at = clock.due_at
        clock.warned_at = clock.warned_at or now
        _tell(clock, breached=True)
    db.session.commit()
    return len(warnings), len(breaches)


def _tell(clock: SlaClock, *, breached: bool) -> None:
    """The assignee, or the whole team when nobody has the ticket."""
    ticket = clock.ticket
    if ticket.assignee is not None and ticket.assignee.is_active:
        to = [ticket.assignee]
    else:
        to = users.active_staff()
    if not to:
        return
    notify.staff_alert(
        ticket,
        "sla",
        to,
        breached=breached,
        due_at=clock.due_at,
        target_label=KIND_LABELS[clock.kind],
    )
