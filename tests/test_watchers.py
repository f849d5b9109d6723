"""Watchers and mentions: agents follow tickets, a colleague named in an internal note is told
by mail and under the bell, and follows the ticket from then on."""

from __future__ import annotations

import html

from sqlalchemy import select

from supportit.db import db
from supportit.models import AgentNotice, NoticeKind, OutboundMail, TicketWatcher
from supportit.services import tickets, watchers
from tests import factories
from tests.conftest import login


def _staff_mails(kind: str) -> list[OutboundMail]:
    return list(db.session.scalars(select(OutboundMail).where(OutboundMail.kind == kind)))


def test_mentions_name_agents_by_name_address_or_first_name(world) -> None:
    staff = [world.agent, world.agent2, world.admin]
    world.agent.name, world.agent2.name = "Claire Dubois", "Julien Moreau"
    found = watchers.mentioned
    assert found("@Julien Moreau peux-tu regarder ?", staff) == [world.agent2]
    assert found("Vu avec @julien, et @agent1.", staff) == [world.agent2, world.agent]
    assert found("@Claire @claire dubois", staff) == [world.agent]
    # Addresses and unknown names are not mentions.
    assert found("écrire à support@floa.example ou @Personne", staff) == []
    world.admin.name = "Julien Admin"  # two Juliens: the first name alone is ambiguous
    assert found("@Julien ?", staff) == []
    assert found("@Julien Admin ?", staff) == [world.admin]


def test_a_mention_tells_the_colleague_and_makes_them_follow(world) -> None:
    ticket = factories.ticket(world.alice)
    world.agent2.name = "Julien Moreau"
    tickets.reply(ticket, world.agent, "@Julien Moreau tu connais ce marchand ?", internal=True)
    assert watchers.is_following(ticket, world.agent2)
    notice = db.session.scalars(select(AgentNotice)).one()
    assert (notice.user_id, notice.kind, notice.actor_name) == (
        world.agent2.id,
        NoticeKind.MENTION,
        world.agent.name,
    )
    mail = _staff_mails("mention")[0]
    assert mail.to_addrs == [world.agent2.email]
    assert "tu connais ce marchand" in mail.body_text and ticket.reference in mail.subject
    # Public replies never mention (the merchant would read the "@").
    tickets.reply(ticket, world.agent, "Bonjour @Julien", internal=False)
    assert len(_staff_mails("mention")) == 1


def test_followers_hear_of_new_messages_but_not_of_their_own(world) -> None:
    ticket = factories.ticket(world.alice)
    watchers.follow(ticket, world.agent)
    watchers.follow(ticket, world.agent2)
    tickets.reply(ticket, world.alice, "Voici le TransID.")
    assert {n.user_id for n in db.session.scalars(select(AgentNotice))} == {
        world.agent.id,
        world.agent2.id,
    }
    tickets.reply(ticket, world.agent, "Merci, je regarde.")
    notices = db.session.scalars(
        select(AgentNotice).where(AgentNotice.user_id == world.agent.id)
    ).all()
    assert len(notices) == 1  # nothing about their own reply
    assert [m.to_addrs for m in _staff_mails("activity")][-1] == [world.agent2.email]
    watchers.unfollow(ticket, world.agent2)
    tickets.reply(ticket, world.alice, "Autre chose.")
    assert watchers.unread_count(world.agent2) == 2


def test_the_bell_the_follow_button_and_reading(client, world) -> None:
    ticket = factories.ticket(world.alice)
    login(client, world.agent)
    client.post(f"/queue/tickets/{ticket.reference}/follow", data={"follow": "1"})
    assert watchers.is_following(ticket, world.agent)
    tickets.reply(ticket, world.alice, "Du nouveau.")
    page = html.unescape(client.get("/queue/").get_data(as_text=True))
    assert 'data-testid="bell"' in page and "1 non lue" in page
    bell = html.unescape(client.get("/queue/notices").get_data(as_text=True))
    assert f"Alice a écrit sur {ticket.reference}" in bell.replace(world.alice.name, "Alice")
    client.get(f"/queue/tickets/{ticket.reference}")  # reading the ticket reads its notices
    assert watchers.unread_count(world.agent) == 0
    client.post(f"/queue/tickets/{ticket.reference}/follow", data={"follow": "0"})
    assert not watchers.is_following(ticket, world.agent)


def test_a_merge_moves_followers_once(world) -> None:
    survivor = factories.ticket(world.alice)
    duplicate = factories.ticket(world.alice)
    for ticket in (survivor, duplicate):
        watchers.follow(ticket, world.agent)
    watchers.follow(duplicate, world.agent2)
    tickets.merge(duplicate, survivor, world.admin)
    rows = db.session.execute(select(TicketWatcher.ticket_id, TicketWatcher.user_id)).all()
    assert sorted(rows) == sorted([(survivor.id, world.agent.id), (survivor.id, world.agent2.id)])
