"""Merging duplicate tickets and splitting a message out: nothing is lost, every way in to the
duplicate (its page, a reply, a mail) leads to the survivor, and merchants are never mixed."""

from __future__ import annotations

import html
from email.message import EmailMessage

import pytest
from sqlalchemy import func, select

from supportit.db import db
from supportit.intake import pipeline
from supportit.models import (
    Attachment,
    InboundMail,
    Message,
    OutboundMail,
    Status,
    Ticket,
    TicketEvent,
)
from supportit.services import queue, tickets
from supportit.services.attachments import Upload
from supportit.services.errors import ServiceError
from tests import factories
from tests.conftest import login


@pytest.fixture
def pair(world):  # type: ignore[no-untyped-def]
    """Alice wrote twice about the same refusal; the second time a colleague was in copy."""
    survivor = factories.ticket(world.alice, "Paiement 3X refusé", body="Code 21000005 en 3X.")
    duplicate = factories.ticket(
        world.alice,
        "Re: paiement refusé",
        body="Toujours refusé, voir la capture zanzibar.",
        trans_id="TX-42",
        uploads=[Upload("capture.png", b"\x89PNG fake")],
    )
    duplicate.cc_emails = ["compta@maliterie.example"]
    tickets.reply(duplicate, world.agent, "Nous regardons.")
    return survivor, duplicate


def _count(model, ticket: Ticket) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(select(func.count()).where(model.ticket_id == ticket.id))


def test_merge_moves_everything_to_the_survivor(world, pair) -> None:
    survivor, duplicate = pair
    before = {
        model: _count(model, survivor) + _count(model, duplicate)
        for model in (Message, Attachment, OutboundMail)
    }
    tickets.merge(duplicate, survivor, world.agent)
    db.session.expire_all()
    for model, total in before.items():
        assert _count(model, survivor) == total, model
        assert _count(model, duplicate) == 0, model
    assert [m.body_text for m in survivor.messages] == [
        "Code 21000005 en 3X.",
        "Toujours refusé, voir la capture zanzibar.",
        "Nous regardons.",
    ]
    assert survivor.attachments[0].filename == "capture.png"
    assert survivor.trans_id == "TX-42"  # the duplicate's order reference is kept
    assert "compta@maliterie.example" in survivor.cc_emails
    assert duplicate.status is Status.CLOSED and duplicate.merged_into == survivor
    actions = {e.action for e in survivor.events}
    assert {"merged", "created", "reply"} <= actions
    assert [e.action for e in duplicate.events] == ["merged_into", "closed"]
    # Search finds the survivor by the duplicate's words; the empty duplicate no longer.
    found = db.session.scalars(
        queue.queue_select(world.agent, queue.QueueFilter(view="all", q="zanzibar"))
    ).all()
    assert found == [survivor]


def test_a_merge_keeps_the_duplicates_question_open(world, pair) -> None:
    survivor, duplicate = pair
    tickets.close(survivor, world.agent)
    tickets.merge(duplicate, survivor, world.agent)
    assert survivor.status is Status.OPEN


def test_merges_never_cross_merchants_nor_loop(world, pair) -> None:
    survivor, duplicate = pair
    bobs = factories.ticket(world.bob, "Ticket de Bob")
    with pytest.raises(ServiceError, match=r"même marchand|same merchant"):
        tickets.merge(duplicate, bobs, world.agent)
    with pytest.raises(ServiceError):
        tickets.merge(duplicate, duplicate, world.agent)
    with pytest.raises(ServiceError):
        tickets.merge(duplicate, survivor, world.alice)  # merchants cannot merge
    db.session.rollback()
    tickets.merge(duplicate, survivor, world.agent)
    with pytest.raises(ServiceError):
        tickets.merge(survivor, duplicate, world.agent)  # into itself, through the pointer
    with pytest.raises(ServiceError):
        tickets.merge(duplicate, survivor, world.agent)  # already merged
    assert _count(Message, bobs) == 1


def test_replies_and_mail_to_the_duplicate_reach_the_survivor(app, client, world, pair) -> None:
    survivor, duplicate = pair
    ack = db.session.scalars(
        select(OutboundMail).where(
            OutboundMail.ticket_id == duplicate.id, OutboundMail.kind == "ack"
        )
    ).one()
    tickets.merge(duplicate, survivor, world.agent)

    # A mail answering the duplicate's acknowledgement threads into the survivor.
    mail = EmailMessage()
    mail["From"] = world.alice.email
    mail["To"] = app.config["SUPPORT_ADDRESS"]
    mail["Subject"] = f"Re: [{duplicate.reference}] paiement refusé"
    mail["Message-ID"] = "<suite-42@maliterie.example>"
    mail["In-Reply-To"] = ack.message_id
    mail.set_content("Voici le PayID demandé : 0123456789abcdef.")
    record = pipeline.ingest(mail.as_bytes(), channel="eml")
    assert db.session.get(InboundMail, record.id).ticket_id == survivor.id
    # And a reply posted to the duplicate (an old tab) too.
    tickets.reply(duplicate, world.alice, "Encore une précision.")
    db.session.expire_all()
    assert [m.body_text for m in survivor.messages][-2:] == [
        "Voici le PayID demandé : 0123456789abcdef.",
        "Encore une précision.",
    ]
    assert _count(Message, duplicate) == 0

    login(client, world.alice)
    page = client.get(f"/portal/tickets/{duplicate.reference}", follow_redirects=True)
    assert page.request.path == f"/portal/tickets/{survivor.reference}"
    assert f"{duplicate.reference} a été fusionné dans {survivor.reference}" in html.unescape(
        page.get_data(as_text=True)
    )


def test_merge_from_the_ticket_page(client, world, pair) -> None:
    survivor, duplicate = pair
    login(client, world.agent)
    page = html.unescape(
        client.get(f"/queue/tickets/{duplicate.reference}/context").get_data(as_text=True)
    )
    assert f'name="target" type="hidden" value="{survivor.reference}"' in page or (
        f'value="{survivor.reference}"' in page
    )
    stale = client.post(
        f"/queue/tickets/{duplicate.reference}/merge",
        data={"target": survivor.reference, "version": duplicate.version - 1},
        follow_redirects=True,
    )
    assert "modifié par quelqu'un d'autre" in html.unescape(stale.get_data(as_text=True))
    assert db.session.get(Ticket, duplicate.id).merged_into_id is None
    unknown = client.post(
        f"/queue/tickets/{duplicate.reference}/merge",
        data={"target": "FLOA-999999", "version": duplicate.version},
        follow_redirects=True,
    )
    assert "Aucun ticket n'a la référence FLOA-999999" in html.unescape(
        unknown.get_data(as_text=True)
    )
    done = client.post(
        f"/queue/tickets/{duplicate.reference}/merge",
        data={"target": survivor.reference.lower(), "version": duplicate.version},
    )
    assert done.headers["Location"].endswith(f"/queue/tickets/{survivor.reference}")
    assert client.get(f"/queue/tickets/{duplicate.reference}").status_code == 302


def test_split_moves_one_message_into_a_new_ticket(client, world) -> None:
    ticket = factories.ticket(world.alice, "Paiement refusé")
    second = tickets.reply(
        ticket,
        world.alice,
        "Autre sujet : comment rembourser une commande ?",
        uploads=[Upload("facture.pdf", b"%PDF facture")],
    )
    login(client, world.agent)
    response = client.post(
        f"/queue/tickets/{ticket.reference}/messages/{second.id}/split",
        data={"subject": "Remboursement d'une commande"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    new = db.session.scalars(select(Ticket).where(Ticket.linked_ticket_id == ticket.id)).one()
    assert response.headers["Location"].endswith(new.reference)
    assert new.subject == "Remboursement d'une commande" and new.merchant == world.literie
    assert new.requester == world.alice and new.status is Status.NEW
    assert [m.body_text for m in new.messages] == [second.body_text]
    assert [a.filename for a in new.attachments] == ["facture.pdf"]
    assert [m.body_text for m in ticket.messages] == [
        "Notre commande de test est refusée avec le Code 21000005."
    ]
    assert new.sla_due_at is not None
    # The merchant learns the new reference.
    assert db.session.scalar(
        select(func.count()).where(OutboundMail.ticket_id == new.id, OutboundMail.kind == "ack")
    )
    assert (
        db.session.scalar(
            select(TicketEvent.new_value).where(
                TicketEvent.ticket_id == ticket.id, TicketEvent.action == "split_to"
            )
        )
        == new.reference
    )
    # A ticket's only message stays.
    only = new.messages[0]
    refused = client.post(
        f"/queue/tickets/{new.reference}/messages/{only.id}/split", follow_redirects=True
    )
    assert "ne peut pas être séparé" in html.unescape(refused.get_data(as_text=True))
    # A message of another ticket is not found through this one.
    assert (
        client.post(f"/queue/tickets/{ticket.reference}/messages/{only.id}/split").status_code
        == 404
    )


def test_the_ticket_page_splits_any_message_through_its_one_form(client, world) -> None:
    ticket = factories.ticket(world.alice, "Paiement refusé")
    second = tickets.reply(ticket, world.alice, "Autre sujet : un remboursement partiel ?")
    login(client, world.agent)
    page = client.get(f"/queue/tickets/{ticket.reference}").get_data(as_text=True)
    # One form, not one per message: each message's button names its message.
    assert page.count('id="split-form"') == 1
    action = f'action="/queue/tickets/{ticket.reference}/split"'
    assert action in page and page.count("/split") == 1
    for message in ticket.messages:
        assert f'form="split-form" name="message_id" value="{message.id}"' in page

    response = client.post(
        f"/queue/tickets/{ticket.reference}/split", data={"message_id": str(second.id)}
    )
    assert response.status_code == 302
    db.session.expire_all()
    new = db.session.scalars(select(Ticket).where(Ticket.linked_ticket_id == ticket.id)).one()
    assert [m.body_text for m in new.messages] == [second.body_text]
    # A button without a message, or with another ticket's, splits nothing.
    for sent in ({}, {"message_id": "x"}, {"message_id": str(new.messages[0].id)}):
        assert client.post(f"/queue/tickets/{ticket.reference}/split", data=sent).status_code == 404


def test_the_api_names_the_survivor_of_a_merged_ticket(client, world, pair) -> None:
    from supportit.services import api_tokens

    survivor, duplicate = pair
    tickets.merge(duplicate, survivor, world.agent)
    _, secret = api_tokens.create(world.alice, "ERP", ["tickets:read"])
    data = client.get(
        f"/api/v1/tickets/{duplicate.reference}", headers={"Authorization": f"Bearer {secret}"}
    ).get_json()
    assert data["merged_into"] == survivor.reference and data["status"] == "closed"


def test_notes_from_jira_on_a_merged_duplicate_reach_the_survivor(world, pair) -> None:
    survivor, duplicate = pair
    tickets.merge(duplicate, survivor, world.agent)
    tickets.add_external_note(duplicate, "Jira", "Corrigé en production.")
    db.session.expire_all()
    assert survivor.messages[-1].body_text == "Corrigé en production."
    assert _count(Message, duplicate) == 0
