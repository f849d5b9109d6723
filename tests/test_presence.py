"""Collision warnings: agents see who else is on a ticket and writing on it, and what was said
since they opened it; a reply sent over a colleague's answer asks for confirmation."""

from __future__ import annotations

import html
from datetime import timedelta

import time_machine

from supportit.db import db, utcnow
from supportit.models import TicketPresence
from supportit.services import presence, tickets
from tests import factories
from tests.conftest import login


def test_colleagues_on_a_ticket_and_their_drafts(world) -> None:
    ticket = factories.ticket(world.alice)
    presence.beat(ticket, world.agent, writing=False)
    presence.beat(ticket, world.agent2, writing=True)
    presence.beat(ticket, world.alice, writing=True)  # merchants are never counted
    assert presence.others(ticket, world.agent) == [presence.Colleague(world.agent2.name, True)]
    assert presence.others(ticket, world.agent2) == [presence.Colleague(world.agent.name, False)]
    # The draft is sent: the next beat says so.
    presence.beat(ticket, world.agent2, writing=False)
    assert presence.others(ticket, world.agent) == [presence.Colleague(world.agent2.name, False)]
    # A closed tab says goodbye; a lost one fades out.
    presence.leave(ticket, world.agent2)
    assert presence.others(ticket, world.agent) == []
    presence.beat(ticket, world.agent2, writing=True)
    with time_machine.travel(utcnow() + presence.GONE_AFTER + timedelta(seconds=1)):
        assert presence.others(ticket, world.agent) == []
    # Rows long gone are cleaned up as the ticket is visited again.
    with time_machine.travel(utcnow() + presence.FORGET_AFTER + timedelta(minutes=1)):
        presence.beat(ticket, world.agent, writing=False)
        assert db.session.query(TicketPresence).count() == 1


def test_the_ticket_page_shows_who_else_is_there(client, world) -> None:
    ticket = factories.ticket(world.alice)
    presence.beat(ticket, world.agent2, writing=True)
    login(client, world.agent)
    page = html.unescape(client.get(f"/queue/tickets/{ticket.reference}").get_data(as_text=True))
    assert f"{world.agent2.name} est en train de rédiger une réponse sur ce ticket" in page
    # The page's first beat, at once, tells the others.
    client.post(f"/queue/tickets/{ticket.reference}/presence", data={"writing": "0"})
    assert presence.others(ticket, world.agent2) == [presence.Colleague(world.agent.name, False)]


def test_the_heartbeat_reports_what_was_said_meanwhile(client, world) -> None:
    ticket = factories.ticket(world.alice)
    seen = ticket.messages[-1].id
    login(client, world.agent)
    quiet = client.post(
        f"/queue/tickets/{ticket.reference}/presence", data={"since": seen, "writing": "1"}
    )
    assert quiet.status_code == 200 and "said-since" not in quiet.get_data(as_text=True)
    assert presence.others(ticket, world.agent2) == [presence.Colleague(world.agent.name, True)]

    tickets.reply(ticket, world.agent2, "Je m'en occupe.")
    tickets.reply(ticket, world.alice, "Merci, voici le TransID.")
    told = html.unescape(
        client.post(
            f"/queue/tickets/{ticket.reference}/presence", data={"since": seen, "writing": "1"}
        ).get_data(as_text=True)
    )
    assert f"{world.agent2.name} a répondu au marchand." in told
    assert f"{world.alice.name} a écrit un nouveau message." in told
    # One's own messages are no news.
    assert "said-since" not in client.post(
        f"/queue/tickets/{ticket.reference}/presence",
        data={"since": ticket.messages[-1].id, "writing": "0"},
    ).get_data(as_text=True)
    left = client.post(f"/queue/tickets/{ticket.reference}/presence", data={"leaving": "1"})
    assert left.status_code == 204
    assert presence.others(ticket, world.agent2) == []
    assert client.post("/queue/tickets/FLOA-999999/presence").status_code == 404


def test_a_reply_over_a_colleagues_answer_asks_for_confirmation(client, world) -> None:
    ticket = factories.ticket(world.alice)
    seen = ticket.version
    login(client, world.agent)
    tickets.reply(ticket, world.agent2, "Réponse de ma collègue.")
    draft = {"body": "Ma réponse", "kind": "reply", "status": "", "version": seen}
    refused = client.post(f"/queue/tickets/{ticket.reference}/reply", data=draft)
    page = html.unescape(refused.get_data(as_text=True))
    assert refused.status_code == 409
    assert "Réponse de ma collègue." in page and "Ma réponse" in page  # both shown, draft kept
    assert "Envoyer quand même" in page
    db.session.refresh(ticket)
    assert [m.body_text for m in ticket.messages][-1] == "Réponse de ma collègue."
    # Sending again, now knowingly, goes through.
    confirmed = client.post(
        f"/queue/tickets/{ticket.reference}/reply", data={**draft, "version": ticket.version}
    )
    assert confirmed.status_code == 302
