"""On-call rotations and routing: hand-offs stay at local 09:00 across DST, overrides win,
nobody reachable falls back to the team, and the CLI contract prints JSON."""

from __future__ import annotations

import json
from datetime import date, time

import pytest

from supportit.db import db
from supportit.models import Priority, Role
from supportit.services import oncall, oncall_ics
from supportit.services.calendar import parse_instant
from supportit.services.errors import ServiceError
from tests import factories


@pytest.fixture
def engineers(world):  # type: ignore[no-untyped-def]
    extra = factories.user("agent3@floa.example", Role.AGENT, name="Inès Astreinte")
    lead = factories.user("lead@floa.example", Role.ADMIN, name="Léa Lead")
    db.session.commit()
    # Weekly, hand-off Monday 09:00 Paris; the first turn starts Monday 2027-03-22.
    oncall.save_rotation(
        "primary",
        layer=1,
        members=[world.agent.email, world.agent2.email, extra.email],
        start_date=date(2027, 3, 22),
    )
    oncall.save_rotation(
        "secondary", layer=2, members=[lead.email, world.agent.email], start_date=date(2027, 3, 22)
    )
    for person in (world.agent, world.agent2, extra, lead):
        oncall.set_contact_methods(person, [("sms", "+33600000000"), ("mail", person.email)])
    return world, extra, lead


def _who(at: str, rotation: str = "primary") -> str:
    return oncall.shift_at(oncall.rotation_named(rotation), parse_instant(at)).user.email


@pytest.mark.parametrize(
    ("at", "email", "why"),
    [
        ("2027-03-22T08:00:00Z", "agent1@floa.example", "Monday 09:00 CET: first turn begins"),
        ("2027-03-22T07:59:59Z", None, "before the rotation starts"),
        ("2027-03-28T01:30:00Z", "agent1@floa.example", "the night of the spring change"),
        ("2027-03-29T06:59:59Z", "agent1@floa.example", "Monday 08:59:59 CEST: still week 1"),
        ("2027-03-29T07:00:00Z", "agent2@floa.example", "Monday 09:00 CEST: hand-off on time"),
        ("2027-04-05T07:00:00Z", "agent3@floa.example", "third week"),
        ("2027-04-12T07:00:00Z", "agent1@floa.example", "and round again"),
    ],
)
def test_hand_off_stays_at_local_nine_across_dst(engineers, at, email, why) -> None:
    shift = oncall.shift_at(oncall.rotation_named("primary"), parse_instant(at))
    assert (shift.user.email if shift.user else None) == email, why


def test_autumn_change_keeps_the_hand_off_at_nine(engineers) -> None:
    rotation = oncall.rotation_named("primary")
    # 2027-10-31 is the autumn change; the hand-off on Monday 2027-11-01 is at 09:00 CET.
    assert _who("2027-11-01T07:59:59Z") != _who("2027-11-01T08:00:00Z")
    shift = oncall.shift_at(rotation, parse_instant("2027-11-01T08:00:00Z"))
    assert shift.starts_at == parse_instant("2027-11-01T09:00:00+01:00")
    assert shift.ends_at == parse_instant("2027-11-08T09:00:00+01:00")


def test_an_override_covers_part_of_a_shift(engineers) -> None:
    world, extra, _ = engineers
    rotation = oncall.rotation_named("primary")
    oncall.add_override(
        rotation,
        extra.email,
        parse_instant("2027-03-24T18:00:00+01:00"),
        parse_instant("2027-03-25T09:00:00+01:00"),
        reason="Claire at the dentist",
    )
    assert _who("2027-03-24T20:00:00+01:00") == extra.email
    assert _who("2027-03-25T09:00:00+01:00") == world.agent.email
    week = list(
        oncall.shifts(
            rotation,
            parse_instant("2027-03-22T09:00:00+01:00"),
            parse_instant("2027-03-29T09:00:00+02:00"),
        )
    )
    assert [(s.user.email, s.override is not None) for s in week] == [
        (world.agent.email, False),
        (extra.email, True),
        (world.agent.email, False),
    ]


def test_overlapping_overrides_are_refused(engineers) -> None:
    world, extra, _ = engineers
    rotation = oncall.rotation_named("primary")
    oncall.add_override(
        rotation,
        extra.email,
        parse_instant("2027-03-24T18:00:00Z"),
        parse_instant("2027-03-25T08:00:00Z"),
    )
    with pytest.raises(ServiceError) as refused:
        oncall.add_override(
            rotation,
            world.agent2.email,
            parse_instant("2027-03-25T07:00:00Z"),
            parse_instant("2027-03-25T12:00:00Z"),
        )
    assert "chevauche" in str(refused.value.message)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"members": []}, "au moins un membre"),
        ({"members": ["alice@maliterie.example"]}, "n'est pas un agent actif"),
        ({"timezone": "Mars/Olympus"}, "Fuseau horaire inconnu"),
        ({"layer": 0}, "couches"),
    ],
)
def test_bad_rotations_are_refused_at_configuration_time(world, kwargs, message) -> None:
    settings = {"layer": 1, "members": [world.agent.email], "start_date": date(2027, 1, 4)}
    with pytest.raises(ServiceError) as refused:
        oncall.save_rotation("primary", **{**settings, **kwargs})
    assert message in str(refused.value.message)


def test_business_hours_go_to_the_team_and_nights_to_the_on_call(engineers) -> None:
    world, _, _ = engineers
    day = oncall.route(parse_instant("2027-03-30T07:30:00Z")).as_dict()
    assert day["business_hours"] is True and day["route"] == "team"
    assert world.agent.email in day["target"]["team"]
    night = oncall.route(parse_instant("2027-03-30T22:00:00Z")).as_dict()
    assert night["business_hours"] is False and night["route"] == "oncall"
    assert night["target"]["email"] == world.agent2.email  # week 2 of the primary rotation
    assert night["target"]["contact_methods"][0] == {"kind": "sms", "address": "+33600000000"}
    assert night["target"]["escalation"][0]["email"] == world.agent.email  # secondary, week 2


def test_easter_monday_is_not_business_hours(engineers) -> None:
    result = oncall.route(parse_instant("2027-03-29T10:00:00+02:00")).as_dict()
    assert result["route"] == "oncall"


def test_non_urgent_outside_hours_waits_for_the_team(engineers) -> None:
    result = oncall.route(parse_instant("2027-03-27T11:00:00+01:00"), Priority.P3).as_dict()
    assert result["route"] == "team"
    # Monday 29 is Easter Monday: the team sees it on Tuesday at 09:00 CEST.
    assert result["notify_at"] == "2027-03-30T07:00:00Z"


def test_nobody_reachable_falls_back_to_the_team_with_a_warning(world) -> None:
    result = oncall.route(parse_instant("2027-03-30T22:00:00Z")).as_dict()
    assert result["route"] == "team"
    assert result["warnings"] and "falling back to the whole team" in result["warnings"][0]
    assert world.agent.email in result["target"]["team"]


def test_an_engineer_without_contact_method_falls_back_too(engineers) -> None:
    world, _, _ = engineers
    oncall.set_contact_methods(world.agent2, [])
    result = oncall.route(parse_instant("2027-03-30T22:00:00Z")).as_dict()
    assert result["route"] == "team" and "no contact method" in result["warnings"][0]


def test_cli_route_contract(app, engineers) -> None:
    result = app.test_cli_runner().invoke(
        args=["oncall", "route", "--at", "2027-03-30T07:30:00Z", "--priority", "P1"]
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert {"business_hours", "route", "target"} <= set(document)
    assert document["business_hours"] is True and document["route"] == "team"
    refused = app.test_cli_runner().invoke(args=["oncall", "route", "--at", "2027-03-30T07:30"])
    assert refused.exit_code == 2 and "no UTC offset" in refused.output


def test_cli_who_and_configuration(app, world) -> None:
    runner = app.test_cli_runner()
    made = runner.invoke(
        args=[
            "oncall", "rotation", "primary", "--members",
            f"{world.agent.email},{world.agent2.email}", "--start", "2027-03-22",
        ]
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    runner.invoke(args=["oncall", "contact", world.agent.email, "sms:+33611111111"])
    who = runner.invoke(
        args=["oncall", "who", "--at", "2027-03-23T12:00:00Z", "--weeks", "4", "--json"]
    )
    rows = json.loads(who.output)
    # Four weeks from a Tuesday: four hand-offs, five shifts (the last one cut at the end).
    assert [r["email"] for r in rows] == [world.agent.email, world.agent2.email] * 2 + [
        world.agent.email
    ]
    assert rows[1]["from"] == "2027-03-29T09:00:00+02:00"
    clash = runner.invoke(
        args=[
            "oncall", "override", "primary", "--user", world.agent2.email,
            "--from", "2027-03-24T18:00:00+01:00", "--to", "2027-03-24T10:00:00+01:00",
        ]
    )  # fmt: skip
    assert clash.exit_code == 1 and "se terminer après" in clash.output


def test_icalendar_export_and_import_round_trip(engineers) -> None:
    _, extra, _ = engineers
    start = parse_instant("2027-03-22T09:00:00+01:00")
    exported = oncall_ics.export(start, weeks=2)
    assert b"BEGIN:VEVENT" in exported and b"mailto:agent1@floa.example" in exported
    assert oncall_ics.import_overrides(exported) == 0  # nothing differs: nothing changes
    swap = exported.replace(b"mailto:agent1@floa.example", b"mailto:agent3@floa.example", 1)
    assert oncall_ics.import_overrides(swap) == 1
    assert _who("2027-03-23T12:00:00Z") == extra.email


def test_icalendar_import_refuses_floating_times(engineers) -> None:
    floating = b"""BEGIN:VCALENDAR
VERSION:2.0
PRODID:test
BEGIN:VEVENT
UID:x
DTSTART:20270323T090000
DTEND:20270324T090000
ATTENDEE:mailto:agent3@floa.example
X-SUPPORTIT-ROTATION:primary
END:VEVENT
END:VCALENDAR
"""
    with pytest.raises(ServiceError) as refused:
        oncall_ics.import_overrides(floating)
    assert "fuseau horaire" in str(refused.value.message)


def test_handoff_time_is_configurable(world) -> None:
    rotation = oncall.save_rotation(
        "evening",
        layer=1,
        members=[world.agent.email, world.agent2.email],
        start_date=date(2027, 3, 22),
        handoff_time=time(18, 0),
        period_days=1,
    )
    assert oncall.shift_at(rotation, parse_instant("2027-03-22T17:59:00+01:00")).user is None
    assert _who("2027-03-22T18:00:00+01:00", "evening") == world.agent.email
    assert _who("2027-03-23T18:00:00+01:00", "evening") == world.agent2.email
