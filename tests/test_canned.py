"""Canned replies: placeholders in the merchant's language, article links, refiling, sharing,
and the two clicks from a ticket to a sent answer."""

from __future__ import annotations

import html
from datetime import UTC, datetime

import pytest
import time_machine
from sqlalchemy import select

from supportit import PROJECT_ROOT
from supportit.db import db
from supportit.models import CannedReply, Category, OutboundMail, Priority, Status, TicketEvent
from supportit.services import canned, kb
from supportit.services.errors import ServiceError
from tests import factories
from tests.conftest import login

BODY_FR = (
    "Bonjour {{requester}},\n\nPour {{merchant}} ({{reference}}) :\n{{articles}}\n"
    "Réponse au plus tard {{ next_business_day }}.\n{{agent}}"
)
BODY_EN = "Hello {{requester}}, see:\n{{articles}}\n{{agent}}"


@pytest.fixture
def articles(app):  # type: ignore[no-untyped-def]
    return kb.sync(PROJECT_ROOT / "kb")


def _reply(actor, **overrides) -> CannedReply:  # type: ignore[no-untyped-def]
    data = canned.CannedData(
        title="Erreur MAC",
        body_fr=BODY_FR,
        body_en=BODY_EN,
        shared=True,
        set_status=Status.RESOLVED,
        set_category=Category.INTEGRATION,
        set_priority=Priority.P2,
        article_slugs=["mac-hmac"],
    )
    for name, value in overrides.items():
        setattr(data, name, value)
    return canned.save(None, data, actor)


def test_placeholders_are_filled_in_the_merchants_language(world, articles) -> None:
    reply = _reply(world.agent)
    ticket = factories.ticket(world.alice, "MAC refusé")
    # A Friday evening: the next business day is Monday.
    friday = datetime(2026, 12, 4, 17, 0, tzinfo=UTC)
    rendered = canned.render(reply, ticket, world.agent, now=friday)
    assert rendered.language == "fr"
    assert rendered.body.startswith(f"Bonjour {world.alice.name},")
    assert f"Pour Ma Literie ({ticket.reference})" in rendered.body
    assert "lundi 7 décembre 2026" in rendered.body
    assert rendered.body.endswith(world.agent.name)
    # The article where {{articles}} stands: the help centre's page, then the docs.
    mac = kb.by_slug("mac-hmac")
    assert f"- {mac.title_fr} : http://support.test/help/mac-hmac" in rendered.body
    assert mac.doc_links[0]["url"] in rendered.body
    assert "{{" not in rendered.body

    world.alice.language = "en"
    english = canned.render(reply, ticket, world.agent, now=friday)
    assert english.language == "en" and english.body.startswith("Hello ")
    assert f"- {mac.title_en} :" in english.body


def test_articles_come_at_the_end_without_a_placeholder(world, articles) -> None:
    reply = _reply(world.agent, body_fr="Voici la page.", body_en="")
    world.alice.language = "en"  # no English text: the French one is sent
    rendered = canned.render(reply, factories.ticket(world.alice), world.agent)
    assert rendered.body.startswith("Voici la page.\n\n- ")


def test_bad_canned_replies_are_refused_with_the_reason(world, articles) -> None:
    with pytest.raises(ServiceError, match=r"\{\{merchnat\}\}") as error:
        _reply(world.agent, body_fr="Bonjour {{merchnat}}")
    assert error.value.field == "body_fr"
    with pytest.raises(ServiceError) as error:
        _reply(world.agent, article_slugs=["no-such-article"])
    assert error.value.field == "article_slugs"
    with pytest.raises(ServiceError):
        _reply(world.agent, body_fr="  ")
    with pytest.raises(ServiceError):
        _reply(world.alice)  # merchants have none
    assert db.session.scalar(select(CannedReply)) is None


def test_personal_replies_stay_private_and_shared_ones_are_guarded(world, articles) -> None:
    mine = _reply(world.agent, title="À moi", shared=False)
    team = _reply(world.agent, title="Équipe")
    assert [r.title for r in canned.visible_to(world.agent2)] == ["Équipe"]
    assert canned.get_for(world.agent2, mine.id) is None
    assert canned.get_for(world.alice, team.id) is None
    assert team.editable_by(world.agent) and team.editable_by(world.admin)
    assert not team.editable_by(world.agent2)
    with pytest.raises(ServiceError):
        canned.delete(team, world.agent2)
    with pytest.raises(ServiceError):
        canned.send(factories.ticket(world.alice), mine, world.agent2, expected_version=None)


def test_sending_answers_refiles_and_mails_the_merchant_at_once(world, articles) -> None:
    reply = _reply(world.agent)
    ticket = factories.ticket(world.alice, category=Category.RUN)
    canned.send(ticket, reply, world.agent, expected_version=ticket.version)
    db.session.refresh(ticket)
    assert ticket.status is Status.RESOLVED
    assert (ticket.category, ticket.priority) == (Category.INTEGRATION, Priority.P2)
    answer = ticket.messages[-1]
    assert answer.author == world.agent and not answer.internal
    assert "http://support.test/help/mac-hmac" in answer.body_text
    actions = db.session.scalars(
        select(TicketEvent.action).where(TicketEvent.ticket_id == ticket.id)
    ).all()
    assert {"reply", "canned", "category", "priority", "status"} <= set(actions)
    mail = db.session.scalars(
        select(OutboundMail).where(
            OutboundMail.ticket_id == ticket.id, OutboundMail.kind == "reply"
        )
    ).one()
    assert mail.to_addrs == [world.alice.email]
    assert "http://support.test/help/mac-hmac" in mail.body_text
    db.session.refresh(reply)
    assert reply.uses == 1


def test_two_clicks_from_the_ticket_page(client, world, articles) -> None:
    reply = _reply(world.agent)
    ticket = factories.ticket(world.alice)
    login(client, world.agent2)
    page = html.unescape(client.get(f"/queue/tickets/{ticket.reference}").get_data(as_text=True))
    # They come with the side panels, once the page is shown; the page keeps them a place.
    assert 'id="canned-slot"' in page and "Erreur MAC" not in page
    for shown in (
        client.get(f"/queue/tickets/{ticket.reference}/context"),
        # Without JavaScript, the placeholder's link shows them in the page.
        client.get(f"/queue/tickets/{ticket.reference}?context=1"),
    ):
        panel = html.unescape(shown.get_data(as_text=True))
        assert 'data-testid="canned-panel"' in panel and "Erreur MAC" in panel
        # The preview is the reply as it will leave, already written out for this ticket.
        assert f"Pour Ma Literie ({ticket.reference})" in panel
        assert f'action="/queue/tickets/{ticket.reference}/canned/{reply.id}"' in panel
        assert panel.count('data-testid="canned-panel"') == 1
    response = client.post(
        f"/queue/tickets/{ticket.reference}/canned/{reply.id}",
        data={"version": ticket.version},
    )
    assert response.status_code == 302
    db.session.refresh(ticket)
    assert ticket.status is Status.RESOLVED and ticket.messages[-1].author == world.agent2


def test_a_stale_canned_send_is_refused_and_nothing_is_sent(client, world, articles) -> None:
    reply = _reply(world.agent)
    ticket = factories.ticket(world.alice)
    seen = ticket.version
    from supportit.services import tickets

    tickets.reply(ticket, world.agent, "Je regarde.")  # a colleague answered meanwhile
    login(client, world.agent2)
    response = client.post(
        f"/queue/tickets/{ticket.reference}/canned/{reply.id}", data={"version": seen}
    )
    assert response.status_code == 409
    assert "Modifié entre-temps" in html.unescape(response.get_data(as_text=True))
    db.session.refresh(ticket)
    assert [m.body_text for m in ticket.messages][-1] == "Je regarde."


def test_edit_before_sending_without_javascript(client, world, articles) -> None:
    reply = _reply(world.agent)
    ticket = factories.ticket(world.alice)
    login(client, world.agent)
    page = html.unescape(
        client.get(f"/queue/tickets/{ticket.reference}?canned={reply.id}").get_data(as_text=True)
    )
    assert f'name="canned" type="hidden" value="{reply.id}"' in page
    response = client.post(
        f"/queue/tickets/{ticket.reference}/reply",
        data={
            "body": "Texte revu par l'agent",
            "kind": "reply",
            "status": "pending_merchant",
            "version": ticket.version,
            "canned": reply.id,
        },
    )
    assert response.status_code == 302
    db.session.refresh(ticket)
    # The agent's text and status win; the reply's refiling still applies.
    assert ticket.messages[-1].body_text == "Texte revu par l'agent"
    assert ticket.status is Status.PENDING_MERCHANT and ticket.priority is Priority.P2


def test_the_management_pages(client, world, articles) -> None:
    login(client, world.agent)
    assert client.get("/queue/replies/").status_code == 200
    form = client.get("/queue/replies/new")
    assert "{{next_business_day}}" in html.unescape(form.get_data(as_text=True))
    bad = client.post(
        "/queue/replies/new",
        data={
            "title": "Oups",
            "scope": "shared",
            "body_fr": "Bonjour {{nom}}",
            "set_status": "",
            "set_category": "",
            "set_priority": "",
        },
    )
    assert bad.status_code == 400
    assert "Espace réservé inconnu" in html.unescape(bad.get_data(as_text=True))
    good = client.post(
        "/queue/replies/new",
        data={
            "title": "Fonds J+2",
            "scope": "personal",
            "body_fr": "Les fonds arrivent à J+2.",
            "set_status": "resolved",
            "set_category": "",
            "set_priority": "",
            "articles": ["funds-d-plus-2"],
        },
    )
    assert good.status_code == 302
    saved = db.session.scalars(select(CannedReply)).one()
    assert saved.owner == world.agent and saved.article_slugs == ["funds-d-plus-2"]
    assert "Fonds J+2" in client.get("/queue/replies/").get_data(as_text=True)
    # Another agent neither sees nor reaches it.
    client.post("/logout")
    login(client, world.agent2)
    assert client.get(f"/queue/replies/{saved.id}").status_code == 404
    assert client.post(f"/queue/replies/{saved.id}/delete").status_code == 404
    client.post("/logout")
    login(client, world.alice)
    assert client.get("/queue/replies/").status_code == 404


def test_the_demo_ships_canned_replies_that_link_real_articles(app, world) -> None:
    from supportit.services import demo

    demo.load()
    shared = db.session.scalars(select(CannedReply).where(CannedReply.owner_id.is_(None))).all()
    assert len(shared) >= 4
    with time_machine.travel(datetime(2026, 12, 2, 10, tzinfo=UTC), tick=False):
        ticket = factories.ticket(world.alice)
        for reply in shared:
            rendered = canned.render(reply, ticket, world.agent)
            assert not rendered.missing_articles and "{{" not in rendered.body, reply.title
