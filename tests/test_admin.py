"""Administration pages: service levels, closed days, rotations, contact methods, escalation,
and the overrides any agent records on the on-call page. Only admins change the settings."""

from __future__ import annotations

import html
from datetime import UTC, date, datetime

import pytest
import time_machine
from sqlalchemy import select

from supportit.db import db
from supportit.models import (
    ClosedDay,
    OnCallOverride,
    OnCallRotation,
    Priority,
    SlaKind,
    SlaPolicy,
)
from supportit.services import alerts, calendar, oncall, sla
from supportit.services.calendar import parse_instant
from supportit.services.errors import ServiceError
from tests import factories
from tests.conftest import login


def _page(response) -> str:  # type: ignore[no-untyped-def]
    """The page's text as a reader sees it (Jinja escapes apostrophes as &#39;)."""
    return html.unescape(response.get_data(as_text=True))


ADMIN_PAGES = [
    "/admin/",
    "/admin/sla",
    "/admin/calendar",
    "/admin/oncall",
    "/admin/oncall/rotations/new",
    "/admin/escalation",
]


def _rotation_form(**fields: str) -> dict[str, str]:
    """The rotation form as an admin fills it: weekly, Monday 09:00 Paris, agent1 alone."""
    return {
        "name": "primary",
        "layer": "1",
        "members": "agent1@floa.example",
        "start_date": "2027-03-01",
        "handoff_time": "09:00",
        "period_days": "7",
        "timezone": "Europe/Paris",
        **fields,
    }


@pytest.fixture
def rotation(world) -> OnCallRotation:  # type: ignore[no-untyped-def]
    return oncall.save_rotation(
        "primary",
        layer=1,
        members=[world.agent.email, world.agent2.email],
        start_date=date(2027, 3, 1),
    )


@pytest.mark.parametrize("url", ADMIN_PAGES)
def test_agents_are_refused_and_merchants_see_nothing(client, world, url) -> None:
    assert client.get(url).status_code == 302  # to the login page
    login(client, world.agent)
    assert client.get(url).status_code == 403
    client.post("/logout")
    login(client, world.alice)
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("url", ADMIN_PAGES)
def test_every_admin_page_renders_for_an_admin(client, world, rotation, url) -> None:
    login(client, world.admin)
    response = client.get(url, follow_redirects=True)
    assert response.status_code == 200
    assert "Administration" in _page(response)


def test_a_form_posted_by_an_agent_changes_nothing(client, world) -> None:
    login(client, world.agent)
    response = client.post(
        "/admin/sla",
        data={
            "category": "run",
            "priority": "P2",
            "first_response_hours": "1",
            "resolution_hours": "2",
        },
    )
    assert response.status_code == 403
    assert db.session.scalar(select(SlaPolicy)) is None


def test_admin_changes_a_service_level_and_open_tickets_follow(client, world) -> None:
    with time_machine.travel(parse_instant("2027-03-01T08:00:00Z"), tick=False):  # Monday 9:00
        ticket = factories.ticket(world.alice, "Paiement refusé", priority=Priority.P2)
        login(client, world.admin)
        page = _page(client.get("/admin/sla"))
        assert 'data-row="integration-P2"' in page
        response = client.post(
            "/admin/sla",
            data={
                "category": "integration",
                "priority": "P2",
                "first_response_hours": "1.5",
                "resolution_hours": "9",
            },
        )
        assert response.status_code == 302
    policy = db.session.scalars(select(SlaPolicy)).one()
    assert (policy.first_response_minutes, policy.resolution_minutes) == (90, 540)
    assert not policy.wall_clock
    clock = sla.clocks(ticket)[SlaKind.FIRST_RESPONSE]
    assert clock.due_at == parse_instant("2027-03-01T09:30:00Z")  # 10:30 Paris


def test_an_impossible_service_level_is_refused_on_its_row(client, world) -> None:
    login(client, world.admin)
    response = client.post(
        "/admin/sla",
        data={
            "category": "run",
            "priority": "P3",
            "first_response_hours": "10",
            "resolution_hours": "2",
        },
    )
    assert response.status_code == 400
    page = _page(response)
    assert "La première réponse ne peut pas être due après la résolution." in page
    assert 'value="10"' in page  # what was typed is kept
    assert db.session.scalar(select(SlaPolicy)) is None
    response = client.post(
        "/admin/sla",
        data={
            "category": "nope",
            "priority": "P3",
            "first_response_hours": "1",
            "resolution_hours": "2",
        },
    )
    assert response.status_code == 400


def test_admin_closes_and_reopens_a_day(client, world) -> None:
    login(client, world.admin)
    page = _page(client.get("/admin/calendar?year=2027"))
    assert "Lundi de Pâques" in page or "Easter Monday" in page
    response = client.post("/admin/calendar", data={"day": "2027-05-07", "reason": "Séminaire"})
    assert response.status_code == 302
    assert db.session.get(ClosedDay, date(2027, 5, 7)).reason == "Séminaire"
    assert not calendar.current().is_business_hours(parse_instant("2027-05-07T10:00:00Z"))

    again = client.post("/admin/calendar", data={"day": "2027-05-07", "reason": "Encore"})
    assert again.status_code == 400
    assert "Ce jour est déjà fermé." in _page(again)
    assert client.post("/admin/calendar", data={"day": "", "reason": "x"}).status_code == 400

    assert client.post("/admin/calendar/2027-05-07/remove").status_code == 302
    db.session.expire_all()
    assert db.session.get(ClosedDay, date(2027, 5, 7)) is None
    assert client.post("/admin/calendar/not-a-day/remove").status_code == 404


def test_admin_creates_renames_and_deletes_a_rotation(client, world) -> None:
    login(client, world.admin)
    form = _rotation_form(members=f"{world.agent2.email}\n{world.agent.email}\n")
    assert client.post("/admin/oncall/rotations/new", data=form).status_code == 302
    rotation = db.session.scalars(select(OnCallRotation)).one()
    assert [m.user for m in rotation.members] == [world.agent2, world.agent]

    edit = _page(client.get(f"/admin/oncall/rotations/{rotation.id}"))
    assert world.agent2.email in edit
    renamed = dict(form, name="astreinte", members=world.agent.email)
    response = client.post(f"/admin/oncall/rotations/{rotation.id}", data=renamed)
    assert response.status_code == 302
    db.session.expire_all()
    rotation = db.session.scalars(select(OnCallRotation)).one()  # edited, not a second one
    assert rotation.name == "astreinte" and [m.user for m in rotation.members] == [world.agent]

    response = client.post(f"/admin/oncall/rotations/{rotation.id}/delete")
    assert response.status_code == 302
    assert db.session.scalars(select(OnCallRotation)).all() == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"timezone": "Europe/Lutece"}, "Fuseau horaire inconnu : Europe/Lutece."),
        ({"members": "nobody@floa.example"}, "nobody@floa.example n'est pas un agent actif."),
        ({"members": "alice@maliterie.example"}, "alice@maliterie.example n'est pas un agent"),
        ({"members": "agent1@floa.example\nagent1@floa.example"}, "deux fois"),
        ({"members": ""}, "Ce champ est requis."),
        ({"period_days": "0"}, "1"),
        ({"handoff_time": "25:00"}, "heure"),
    ],
)
def test_a_bad_rotation_is_refused_with_the_reason(client, world, change, message) -> None:
    login(client, world.admin)
    form = _rotation_form(**change)
    response = client.post("/admin/oncall/rotations/new", data=form)
    assert response.status_code == 400
    assert message in _page(response)
    assert db.session.scalars(select(OnCallRotation)).all() == []


def test_two_rotations_cannot_share_a_name(client, world, rotation) -> None:
    other = oncall.save_rotation(
        "secondary", layer=2, members=[world.agent.email], start_date=date(2027, 3, 1)
    )
    login(client, world.admin)
    response = client.post(
        f"/admin/oncall/rotations/{other.id}",
        data=_rotation_form(layer="2"),
    )
    assert response.status_code == 400
    assert "Une autre rotation s'appelle déjà primary." in _page(response)


def test_engineers_keep_their_own_contact_methods(client, world) -> None:
    login(client, world.agent)
    assert client.get("/queue/oncall/contacts").status_code == 200
    response = client.post(
        "/queue/oncall/contacts",
        data={
            "methods-0-kind": "sms",
            "methods-0-address": "+33 6 12 34 56 78",
            "methods-1-kind": "mail",
            "methods-1-address": world.agent.email,
        },
    )
    assert response.status_code == 302
    methods = [(m.kind.value, m.address) for m in oncall.contact_methods(world.agent)]
    assert methods == [("sms", "+33612345678"), ("mail", world.agent.email)]

    refused = client.post(
        "/queue/oncall/contacts",
        data={"methods-0-kind": "voice", "methods-0-address": "06 12 34 56 78"},
    )
    assert refused.status_code == 400
    assert "n'est pas un numéro de téléphone au format international" in _page(refused)
    assert len(oncall.contact_methods(world.agent)) == 2  # unchanged
    # Someone else's are an admin's business.
    assert client.get(f"/admin/contacts/{world.agent2.id}").status_code == 403


def test_admin_fixes_an_agents_contact_methods(client, world) -> None:
    login(client, world.admin)
    response = client.post(
        f"/admin/contacts/{world.agent2.id}",
        data={"methods-0-kind": "webhook", "methods-0-address": "https://hooks.floa.example/p"},
    )
    assert response.status_code == 302
    assert [m.kind.value for m in oncall.contact_methods(world.agent2)] == ["webhook"]
    assert client.get(f"/admin/contacts/{world.alice.id}").status_code == 404


@pytest.mark.parametrize(
    ("kind", "address"),
    [
        ("sms", "0612345678"),
        ("sms", "+33"),
        ("mail", "not-an-address"),
        ("webhook", "ftp://hooks.example"),
        ("webhook", "javascript:alert(1)"),
        ("pigeon", "roof"),
        ("mail", "   "),
    ],
)
def test_contact_methods_are_checked(world, kind, address) -> None:
    with pytest.raises(ServiceError):
        oncall.set_contact_methods(world.agent, [(kind, address)])


def test_only_admins_change_someone_elses_contact_methods(world) -> None:
    with pytest.raises(ServiceError):
        oncall.set_contact_methods(world.agent2, [("sms", "+33612345678")], actor=world.agent)
    with pytest.raises(ServiceError):
        oncall.set_contact_methods(world.alice, [("sms", "+33612345678")], actor=world.admin)


def test_admin_edits_the_escalation_policy_and_open_alerts_keep_theirs(client, world) -> None:
    open_before = alerts.raise_alert(
        "paygate:down", "Paygate ne répond plus", priority=Priority.P1
    ).alert
    login(client, world.admin)
    page = _page(client.get("/admin/escalation"))
    assert 'value="oncall:2" selected' in page or 'selected value="oncall:2"' in page
    response = client.post(
        "/admin/escalation",
        data={
            "steps-0-notify": "oncall:1",
            "steps-0-after_minutes": "0",
            "steps-1-notify": "lead",
            "steps-1-after_minutes": "5",
            "steps-2-notify": "",
            "repeats": "3",
            "team_lead": world.admin.email,
        },
    )
    assert response.status_code == 302
    policy = alerts.policy()
    assert policy.steps == [
        {"notify": "oncall:1", "after_minutes": 0},
        {"notify": "lead", "after_minutes": 5},
    ]
    assert (policy.repeats, policy.team_lead) == (3, world.admin)
    db.session.refresh(open_before)
    assert len(open_before.policy["steps"]) == 3  # the alert keeps the policy it opened with


def test_an_escalation_policy_without_delay_is_refused(client, world) -> None:
    login(client, world.admin)
    response = client.post(
        "/admin/escalation",
        data={
            "steps-0-notify": "oncall:1",
            "steps-0-after_minutes": "0",
            "steps-1-notify": "oncall:2",
            "steps-1-after_minutes": "0",
            "repeats": "2",
            "team_lead": "",
        },
    )
    assert response.status_code == 400
    assert "au moins une minute" in _page(response)
    response = client.post("/admin/escalation", data={"repeats": "2", "team_lead": ""})
    assert response.status_code == 400  # no step at all


def test_an_agent_records_an_override_in_paris_time(client, world, rotation) -> None:
    login(client, world.agent)
    response = client.post(
        "/queue/oncall",
        data={
            "rotation": "primary",
            "user": world.agent2.email,
            "starts_at": "2027-03-27T18:00",  # Saturday, winter time (UTC+1)
            "ends_at": "2027-03-29T09:00",  # Monday, summer time (UTC+2)
            "reason": "échange avec Claire",
        },
    )
    assert response.status_code == 302
    override = db.session.scalars(select(OnCallOverride)).one()
    assert override.starts_at == datetime(2027, 3, 27, 17, 0, tzinfo=UTC)
    assert override.ends_at == datetime(2027, 3, 29, 7, 0, tzinfo=UTC)
    assert override.created_by_id == world.agent.id
    assert "échange avec Claire" in _page(client.get("/queue/oncall"))

    overlap = client.post(
        "/queue/oncall",
        data={
            "rotation": "primary",
            "user": world.agent.email,
            "starts_at": "2027-03-28T12:00",
            "ends_at": "2027-03-28T20:00",
        },
    )
    assert overlap.status_code == 400
    assert "chevauche" in _page(overlap)

    assert client.post(f"/queue/oncall/overrides/{override.id}/remove").status_code == 302
    assert db.session.scalars(select(OnCallOverride)).all() == []
    assert client.post("/queue/oncall/overrides/999/remove").status_code == 404


def test_a_time_the_clocks_skip_is_refused(client, world, rotation) -> None:
    login(client, world.agent)
    response = client.post(
        "/queue/oncall",
        data={
            "rotation": "primary",
            "user": world.agent2.email,
            "starts_at": "2027-03-28T02:30",  # Paris jumps from 02:00 to 03:00 that night
            "ends_at": "2027-03-28T10:00",
        },
    )
    assert response.status_code == 400
    assert "n'existe pas" in _page(response)
    assert db.session.scalars(select(OnCallOverride)).all() == []


def test_local_instants_across_both_dst_changes() -> None:
    from zoneinfo import ZoneInfo

    paris = ZoneInfo("Europe/Paris")
    cases = [
        (datetime(2027, 3, 28, 1, 59), datetime(2027, 3, 28, 0, 59, tzinfo=UTC)),
        (datetime(2027, 3, 28, 3, 0), datetime(2027, 3, 28, 1, 0, tzinfo=UTC)),
        # 02:30 happens twice in October: the first one (still summer time).
        (datetime(2027, 10, 31, 2, 30), datetime(2027, 10, 31, 0, 30, tzinfo=UTC)),
        (datetime(2027, 10, 31, 3, 30), datetime(2027, 10, 31, 2, 30, tzinfo=UTC)),
    ]
    for wall, expected in cases:
        assert calendar.local_instant(wall, paris) == expected, wall
    with pytest.raises(ServiceError):
        calendar.local_instant(datetime(2027, 3, 28, 2, 30), paris)


def test_merchants_cannot_record_overrides(world, rotation) -> None:
    start = parse_instant("2027-03-27T17:00:00Z")
    with pytest.raises(ServiceError):
        oncall.add_override(
            rotation,
            world.agent.email,
            start,
            parse_instant("2027-03-28T17:00:00Z"),
            actor=world.alice,
        )
