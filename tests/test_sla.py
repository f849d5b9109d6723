"""SLA clocks: business time, pauses while the merchant is asked, wall-clock RUN P1, warnings."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from sqlalchemy import select

from supportit.db import db
from supportit.models import (
    Category,
    Environment,
    OutboundMail,
    Priority,
    SlaClock,
    SlaKind,
    Status,
)
from supportit.services import queue, sla, tickets
from supportit.services.calendar import parse_instant
from tests import factories

FRIDAY_17 = parse_instant("2026-11-27T17:00:00+01:00")


def _at(text: str):  # type: ignore[no-untyped-def]
    return time_machine.travel(parse_instant(text), tick=False)


def _clocks(ticket):  # type: ignore[no-untyped-def]
    return sla.clocks(ticket)


def test_a_ticket_opened_friday_evening_is_due_in_business_time(world) -> None:
    with time_machine.travel(FRIDAY_17, tick=False):
        ticket = factories.ticket(world.alice, priority=Priority.P3)
    clocks = _clocks(ticket)
    # P3: one business day for the first response, five for the resolution.
    assert clocks[SlaKind.FIRST_RESPONSE].due_at == parse_instant("2026-11-30T17:00:00+01:00")
    assert clocks[SlaKind.RESOLUTION].due_at == parse_instant("2026-12-04T17:00:00+01:00")
    assert ticket.sla_due_at == clocks[SlaKind.FIRST_RESPONSE].due_at


def test_the_clock_pauses_while_the_merchant_is_asked(world) -> None:
    with _at("2026-11-30T09:00:00+01:00"):  # Monday
        ticket = factories.ticket(world.alice, priority=Priority.P2)  # resolution: 18 h
    with _at("2026-11-30T11:00:00+01:00"):
        tickets.reply(ticket, world.agent, "Pouvez-vous nous donner le TransID ?")
    resolution = _clocks(ticket)[SlaKind.RESOLUTION]
    first = _clocks(ticket)[SlaKind.FIRST_RESPONSE]
    assert ticket.status is Status.PENDING_MERCHANT
    assert first.met_at is not None and first.breached_at is None
    assert resolution.due_at is None and resolution.consumed == timedelta(hours=2)
    assert ticket.sla_due_at is None  # nothing is running
    with _at("2026-12-03T10:00:00+01:00"):  # Thursday: three days later
        tickets.reply(ticket, world.alice, "Le TransID est T-42.")
        (view,) = [v for v in sla.view(ticket) if v.kind is SlaKind.RESOLUTION]
        assert view.remaining == timedelta(hours=16)
    # 16 business hours left from Thursday 10:00: Thursday 8 h, Friday 8 h → Friday 17:00.
    assert resolution.due_at == parse_instant("2026-12-04T17:00:00+01:00")


def test_run_p1_in_production_counts_wall_clock_time(world) -> None:
    with _at("2026-11-28T03:00:00+01:00"):  # Saturday night
        ticket = factories.ticket(
            world.alice,
            category=Category.RUN,
            priority=Priority.P1,
            environment=Environment.PRODUCTION,
        )
    clocks = _clocks(ticket)
    assert clocks[SlaKind.FIRST_RESPONSE].wall_clock
    assert clocks[SlaKind.FIRST_RESPONSE].due_at == parse_instant("2026-11-28T03:30:00+01:00")
    assert clocks[SlaKind.RESOLUTION].due_at == parse_instant("2026-11-28T07:00:00+01:00")


def test_a_new_priority_means_a_new_target_for_the_time_left(world) -> None:
    with _at("2026-11-30T09:00:00+01:00"):
        ticket = factories.ticket(world.alice, priority=Priority.P4)
    with _at("2026-11-30T09:30:00+01:00"):
        tickets.update_fields(
            ticket, world.agent, expected_version=ticket.version, priority=Priority.P1
        )
    first = _clocks(ticket)[SlaKind.FIRST_RESPONSE]
    # P1: one hour, of which 30 minutes are already used.
    assert first.target_minutes == 60
    assert first.due_at == parse_instant("2026-11-30T10:00:00+01:00")


def test_resolving_stops_and_reopening_resumes(world) -> None:
    with _at("2026-11-30T09:00:00+01:00"):
        ticket = factories.ticket(world.alice, priority=Priority.P3)
    with _at("2026-11-30T10:00:00+01:00"):
        tickets.update_fields(
            ticket, world.agent, expected_version=ticket.version, status=Status.RESOLVED
        )
    resolution = _clocks(ticket)[SlaKind.RESOLUTION]
    assert resolution.met_at is not None and resolution.due_at is None
    with _at("2026-12-01T09:00:00+01:00"):
        tickets.reopen(ticket, world.alice)
    assert resolution.met_at is None
    assert resolution.consumed == timedelta(hours=1)
    assert resolution.due_at == parse_instant("2026-12-07T17:00:00+01:00")


def test_warning_at_80_percent_then_breach_once_each(world) -> None:
    with _at("2026-11-30T09:00:00+01:00"):
        ticket = factories.ticket(world.alice, priority=Priority.P1)  # first response: 1 h
        tickets.assign(ticket, world.agent, world.agent)
    with _at("2026-11-30T09:47:00+01:00"):
        assert sla.check() == (0, 0)
    with _at("2026-11-30T09:48:00+01:00"):
        assert sla.check() == (1, 0)
        assert sla.check() == (0, 0)  # never twice
    warnings = db.session.scalars(select(OutboundMail).where(OutboundMail.kind == "sla")).all()
    assert [m.to_addrs for m in warnings] == [[world.agent.email]]
    assert "SLA à 80 %" in warnings[0].subject and ticket.reference in warnings[0].subject
    assert "/queue/tickets/" + ticket.reference in warnings[0].body_text
    with _at("2026-11-30T10:05:00+01:00"):
        assert sla.check() == (0, 1)
        assert sla.check() == (0, 0)
    first = _clocks(ticket)[SlaKind.FIRST_RESPONSE]
    assert first.breached_at == parse_instant("2026-11-30T10:00:00+01:00")  # when it was missed
    breach = db.session.scalars(select(OutboundMail).where(OutboundMail.kind == "sla")).all()[-1]
    assert "SLA dépassé" in breach.subject


def test_an_unassigned_ticket_warns_the_whole_team(world) -> None:
    with _at("2026-11-30T09:00:00+01:00"):
        factories.ticket(world.alice, priority=Priority.P1)
    with _at("2026-11-30T09:50:00+01:00"):
        sla.check()
    (warning,) = db.session.scalars(select(OutboundMail).where(OutboundMail.kind == "sla")).all()
    assert warning.to_addrs == sorted([world.agent.email, world.agent2.email, world.admin.email])


def test_agents_warned_in_their_own_language(world) -> None:
    world.agent2.language = "en"
    db.session.commit()
    with _at("2026-11-30T09:00:00+01:00"):
        factories.ticket(world.alice, priority=Priority.P1)
    with _at("2026-11-30T09:50:00+01:00"):
        sla.check()
    subjects = {
        tuple(m.to_addrs): m.subject
        for m in db.session.scalars(select(OutboundMail).where(OutboundMail.kind == "sla"))
    }
    assert "SLA at 80%" in subjects[(world.agent2.email,)]
    assert "SLA à 80 %" in subjects[tuple(sorted([world.agent.email, world.admin.email]))]


def test_an_admin_changes_a_target_and_running_clocks_follow(world) -> None:
    with _at("2026-11-30T09:00:00+01:00"):
        ticket = factories.ticket(world.alice, priority=Priority.P3)
        sla.set_policy(world.admin, Category.INTEGRATION, Priority.P3, sla.Target(120, 9 * 60))
    assert _clocks(ticket)[SlaKind.FIRST_RESPONSE].due_at == parse_instant(
        "2026-11-30T11:00:00+01:00"
    )
    table = {(c, p): (t, custom) for c, p, t, custom in sla.policy_table()}
    assert table[(Category.INTEGRATION, Priority.P3)] == (sla.Target(120, 540), True)
    assert table[(Category.RUN, Priority.P1)] == (sla.RUN_P1_TARGET, False)


def test_only_admins_change_targets_and_targets_must_make_sense(world) -> None:
    import pytest

    from supportit.services.errors import ServiceError

    with pytest.raises(ServiceError):
        sla.set_policy(world.agent, Category.RUN, Priority.P2, sla.Target(60, 120))
    with pytest.raises(ServiceError):
        sla.set_policy(world.admin, Category.RUN, Priority.P2, sla.Target(600, 120))
    with pytest.raises(ServiceError):
        sla.set_policy(world.admin, Category.RUN, Priority.P2, sla.Target(0, 120))


def test_the_queue_sorts_by_time_left(world) -> None:
    with _at("2026-11-30T09:00:00+01:00"):
        later = factories.ticket(world.alice, "P4", priority=Priority.P4)
        sooner = factories.ticket(world.alice, "P1", priority=Priority.P1)
        middle = factories.ticket(world.alice, "P2", priority=Priority.P2)
        done = factories.ticket(world.alice, "fini", priority=Priority.P1)
        tickets.close(done, world.alice)
    found = (
        db.session.scalars(
            queue.queue_select(
                world.agent, queue.QueueFilter(view="all", sort="sla", descending=False)
            )
        )
        .unique()
        .all()
    )
    assert found == [sooner, middle, later, done]  # tickets with no clock running come last
    resolution = db.session.scalar(
        select(SlaClock).where(SlaClock.ticket_id == done.id, SlaClock.kind == SlaKind.RESOLUTION)
    )
    assert resolution.met_at is not None and resolution.due_at is None


def test_agents_see_the_time_left_on_the_ticket_and_in_the_queue(client, world) -> None:
    from tests.conftest import login

    with _at("2026-11-30T09:00:00+01:00"):
        ticket = factories.ticket(world.alice, priority=Priority.P2)
        # Signed in at the travelled time: a session cookie signed later would be refused.
        login(client, world.agent)
    with _at("2026-11-30T10:00:00+01:00"):
        page = client.get(f"/queue/tickets/{ticket.reference}").get_data(as_text=True)
        assert "Niveau de service" in page
        assert "reste 3 h 00" in page  # first response: 4 business hours, one used
        assert "reste 17 h 00" in page  # resolution: 18 business hours
        listing = client.get("/queue/").get_data(as_text=True)
        assert "3 h 00" in listing and "Temps restant (SLA)" in listing
    with _at("2026-11-30T12:30:00+01:00"):
        listing = client.get("/queue/").get_data(as_text=True)
        assert '<span class="badge text-bg-warning" title="Échéance' in listing
        assert ">30 min</span>" in listing
    with _at("2026-11-30T14:30:00+01:00"):  # the first response was due at 13:00
        page = client.get(f"/queue/tickets/{ticket.reference}").get_data(as_text=True)
        assert "en retard de 1 h 30" in page
        assert "en retard de 1 h 30" in client.get("/queue/").get_data(as_text=True)
