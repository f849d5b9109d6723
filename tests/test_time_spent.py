"""Time spent: agents log the minutes an answer took; the ticket adds them up and the KPIs
show them by queue and by agent."""

from __future__ import annotations

import html
from datetime import timedelta

import pytest

from supportit.db import utcnow
from supportit.models import Category
from supportit.services import kpis, tickets
from supportit.services.errors import ServiceError
from tests import factories
from tests.conftest import login


def test_agents_log_time_on_replies_and_notes(client, world) -> None:
    ticket = factories.ticket(world.alice)
    login(client, world.agent)
    for kind, minutes in (("note", "20"), ("reply", "45")):
        response = client.post(
            f"/queue/tickets/{ticket.reference}/reply",
            data={
                "body": "Analyse des logs Paygate.",
                "kind": kind,
                "status": "",
                "version": tickets.by_reference(ticket.reference).version,
                "time_spent": minutes,
            },
        )
        assert response.status_code == 302
    assert [m.time_spent for m in tickets.by_reference(ticket.reference).messages] == [None, 20, 45]
    page = html.unescape(client.get(f"/queue/tickets/{ticket.reference}").get_data(as_text=True))
    assert "1 h 05" in page
    refused = client.post(
        f"/queue/tickets/{ticket.reference}/reply",
        data={"body": "x", "kind": "note", "status": "", "version": 99, "time_spent": "-5"},
    )
    assert refused.status_code == 400 and "De 1 à 1440 minutes." in html.unescape(
        refused.get_data(as_text=True)
    )


def test_merchants_log_no_time(world) -> None:
    ticket = factories.ticket(world.alice)
    with pytest.raises(ServiceError):
        tickets.reply(ticket, world.alice, "Merci", time_spent=10)
    with pytest.raises(ServiceError):
        tickets.reply(ticket, world.agent, "Trop long", time_spent=24 * 60 + 1)


def test_kpis_add_up_time_by_queue_and_agent(world) -> None:
    run = factories.ticket(world.alice, category=Category.RUN)
    integration = factories.ticket(world.bob, category=Category.INTEGRATION)
    tickets.reply(run, world.agent, "Relance des notifications.", time_spent=30)
    tickets.reply(run, world.agent, "Vérifié.", internal=True, time_spent=15)
    tickets.reply(integration, world.agent2, "MAC recalculé.", time_spent=60)
    tickets.reply(integration, world.agent2, "Sans temps noté.")
    today = utcnow().date()
    tables = kpis.compute(kpis.Filters(start=today - timedelta(days=1), end=today))
    assert tables["time_category"].rows == [["integration", 1, 1.0, 60], ["run", 1, 0.8, 45]]
    assert tables["time_agent"].rows == sorted(
        [[world.agent.name, 1, 0.8, 45], [world.agent2.name, 1, 1.0, 60]]
    )
