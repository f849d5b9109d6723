"""KPIs from stored facts: delays in business hours, reopenings, filters, blocking points, CSV."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import time_machine

from supportit.models import Category, Status, StepStatus
from supportit.services import kpis, tickets
from supportit.services import onboarding as onboarding_service
from supportit.services.calendar import parse_instant
from tests import factories
from tests.conftest import login

MONDAY = parse_instant("2026-11-30T10:00:00+01:00")


def _filters(**kw) -> kpis.Filters:  # type: ignore[no-untyped-def]
    return kpis.Filters(date(2026, 11, 23), date(2026, 12, 13), **kw)


def test_delays_are_in_business_hours_and_reopenings_counted(app, world) -> None:
    with time_machine.travel(MONDAY, tick=False):
        friday_ticket = factories.ticket(world.alice, "Question du lundi")
    # Answered Tuesday 10:00: 9 business hours later, whatever the wall clock says.
    with time_machine.travel(MONDAY + timedelta(days=1), tick=False):
        tickets.reply(friday_ticket, world.agent, "Voici la réponse")
        tickets.update_fields(
            friday_ticket,
            world.agent,
            status=Status.RESOLVED,
            expected_version=friday_ticket.version,
        )
    with time_machine.travel(MONDAY + timedelta(days=2), tick=False):
        tickets.reply(friday_ticket, world.alice, "Ce n'est pas réglé")
        other = factories.ticket(world.bob, "Panne", category=Category.RUN)
    tables = kpis.compute(_filters())
    delays = {row[0]: row for row in tables["delays"].rows}
    assert delays["integration"][2] == 9.0  # hours of business time
    assert tables["reopen"].rows == [[1, 1, 100.0]]
    merchants = dict(tables["merchants"].rows)
    assert merchants == {"Ma Literie": 1, "Voyages Soleil": 1}
    only_run = kpis.compute(_filters(category=Category.RUN))
    assert [r[1] for r in only_run["opened"].rows] == ["run"]
    only_bob = kpis.compute(_filters(merchant_id=world.soleil.id))
    assert dict(only_bob["merchants"].rows) == {"Voyages Soleil": 1}
    assert other.id


def test_blocking_points_and_lead_time_of_onboardings(app, world) -> None:
    with time_machine.travel(MONDAY, tick=False):
        started = onboarding_service.start(
            world.soleil, world.agent, products=["1XD"], signed_on=date(2026, 11, 30)
        )
    with time_machine.travel(MONDAY + timedelta(days=1), tick=False):
        onboarding_service.move_step(started.steps[1], world.agent, StepStatus.DONE)
    with time_machine.travel(MONDAY + timedelta(days=8), tick=False):
        tables = kpis.compute(_filters())
    steps = {row[0]: row for row in tables["onboarding_steps"].rows}
    assert steps["Ticket Jira et fiche Salesforce créés"][1] == 1
    blocking = tables["blocking"].rows
    assert blocking[0][0] == "Vérification des informations du marchand"
    assert blocking[0][2] >= 5  # a week of business days waiting


def test_page_and_csv_export(app, client, world) -> None:
    factories.ticket(world.alice, "Refus 3X")
    login(client, world.agent)
    page = client.get("/queue/kpis")
    assert page.status_code == 200 and "Tickets ouverts par semaine" in page.get_data(as_text=True)
    export = client.get("/queue/kpis?export=opened")
    assert export.mimetype == "text/csv" and "attachment" in export.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(export.get_data(as_text=True))))
    assert rows[0] == ["week", "category", "channel", "tickets"] and rows[1][3] == "1"
    assert client.get("/queue/kpis?export=nothing").status_code == 404
    assert client.get("/queue/kpis?start=garbage&category=nope").status_code == 200
