import html
from io import BytesIO

from supportit.db import db
from supportit.models import Category, Priority, Status
from supportit.services import tickets
from tests import factories
from tests.conftest import login


def test_ticket_page_shows_the_merchant_context(client, world) -> None:
    ticket = factories.ticket(world.alice, "Paiement refusé")
    other = factories.ticket(world.alice, "Autre question ouverte")
    factories.ticket(world.bob, "Ticket de Bob")
    login(client, world.agent)
    page = client.get(f"/queue/tickets/{ticket.reference}").get_data(as_text=True)
    # The page names the merchant at once; the panels around the conversation follow.
    assert "Ma Literie" in page and "maliterie_prod" not in page
    context_url = f"/queue/tickets/{ticket.reference}/context"
    assert f'data-context-url="{context_url}"' in page
    for shown in (
        client.get(context_url).get_data(as_text=True),
        # Without JavaScript, the placeholder's link shows them in the page.
        client.get(f"/queue/tickets/{ticket.reference}?context=1").get_data(as_text=True),
    ):
        assert "maliterie_prod" in shown and "3X, 4X" in shown and "En production" in shown
        assert other.reference in shown and "Ticket de Bob" not in shown
        assert 'data-testid="transactions"' in shown and 'id="kb-panel"' in shown


def test_the_side_panels_read_the_conversation_words_once_not_its_messages(client, world) -> None:
    from sqlalchemy import event

    ticket = factories.ticket(world.alice, "Paiement refusé")
    for n in range(3):
        tickets.reply(ticket, world.agent, f"Réponse {n}")
    login(client, world.agent)
    statements: list[str] = []
    listener = lambda *args: statements.append(" ".join(args[2].split()))  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        page = client.get(f"/queue/tickets/{ticket.reference}/context")
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert page.status_code == 200 and 'id="kb-panel"' in page.get_data(as_text=True)
    reading = [s for s in statements if " FROM message " in s]
    # The articles and the Paygate transactions share one read of two columns.
    assert len(reading) == 1 and reading[0].startswith("SELECT message.internal, message.body_text")


def test_the_ticket_context_is_for_staff_only(client, world) -> None:
    ticket = factories.ticket(world.alice, "Paiement refusé")
    login(client, world.alice)
    assert client.get(f"/queue/tickets/{ticket.reference}/context").status_code == 404
    assert client.get(f"/queue/tickets/{ticket.reference}/history").status_code == 404


def test_the_history_comes_when_opened(client, world) -> None:
    ticket = factories.ticket(world.alice, "Paiement refusé")
    login(client, world.agent)
    tickets.update_fields(
        ticket, world.agent, expected_version=ticket.version, priority=Priority.P1
    )
    page = html.unescape(client.get(f"/queue/tickets/{ticket.reference}").get_data(as_text=True))
    history_url = f"/queue/tickets/{ticket.reference}/history"
    assert f'data-history-url="{history_url}"' in page and "P3 → P1" not in page
    history = html.unescape(client.get(history_url).get_data(as_text=True))
    assert "Claire Agent" in history and "P3 → P1" in history
    # Without JavaScript, the page's link shows it in the page.
    inline = html.unescape(
        client.get(f"/queue/tickets/{ticket.reference}?context=1").get_data(as_text=True)
    )
    assert "P3 → P1" in inline and "data-history-url" not in inline


def test_agent_public_reply_waits_for_the_merchant(client, world) -> None:
    ticket = factories.ticket(world.alice)
    login(client, world.agent)
    response = client.post(
        f"/queue/tickets/{ticket.reference}/reply",
        data={"body": "Ajoutez Amount.", "kind": "reply", "status": "", "version": ticket.version},
    )
    assert response.status_code == 302
    db.session.refresh(ticket)
    assert ticket.status is Status.PENDING_MERCHANT
    assert ticket.first_response_at is not None
    assert ticket.messages[-1].author == world.agent and not ticket.messages[-1].internal


def test_internal_note_keeps_the_status_and_is_marked(client, world) -> None:
    ticket = factories.ticket(world.alice)
    login(client, world.agent)
    client.post(
        f"/queue/tickets/{ticket.reference}/reply",
        data={"body": "Merchant sensible", "kind": "note", "status": "", "version": ticket.version},
    )
    db.session.refresh(ticket)
    assert ticket.status is Status.NEW and ticket.first_response_at is None
    assert ticket.messages[-1].internal
    page = client.get(f"/queue/tickets/{ticket.reference}").get_data(as_text=True)
    assert "Note interne" in page and "Merchant sensible" in page


def test_reply_can_resolve_in_one_step_with_an_attachment(client, world) -> None:
    ticket = factories.ticket(world.alice)
    login(client, world.agent)
    client.post(
        f"/queue/tickets/{ticket.reference}/reply",
        data={
            "body": "Corrigé.",
            "kind": "reply",
            "status": "resolved",
            "version": ticket.version,
            "attachments": [(BytesIO(b"doc"), "procedure.pdf")],
        },
        content_type="multipart/form-data",
    )
    db.session.refresh(ticket)
    assert ticket.status is Status.RESOLVED and ticket.resolved_at is not None
    assert ticket.attachments[-1].filename == "procedure.pdf"


def test_changes_of_status_priority_and_category_are_logged(client, world) -> None:
    ticket = factories.ticket(world.alice)
    login(client, world.agent)
    response = client.post(
        f"/queue/tickets/{ticket.reference}/fields",
        data={"status": "open", "priority": "P1", "category": "run", "version": ticket.version},
    )
    assert response.status_code == 302
    db.session.refresh(ticket)
    assert (ticket.status, ticket.priority, ticket.category) == (
        Status.OPEN,
        Priority.P1,
        Category.RUN,
    )
    changes = [(e.action, e.old_value, e.new_value, e.actor) for e in ticket.events[1:]]
    assert changes == [
        ("status", "new", "open", world.agent),
        ("priority", "P3", "P1", world.agent),
        ("category", "integration", "run", world.agent),
    ]


def test_take_and_assign(client, world) -> None:
    ticket = factories.ticket(world.alice)
    login(client, world.agent)
    client.post(f"/queue/tickets/{ticket.reference}/take")
    db.session.refresh(ticket)
    assert ticket.assignee == world.agent and ticket.status is Status.OPEN
    client.post(
        f"/queue/tickets/{ticket.reference}/assign",
        data={"assignee": str(world.agent2.id), "version": ticket.version},
    )
    db.session.refresh(ticket)
    assert ticket.assignee == world.agent2
    assignments = [(e.old_value, e.new_value) for e in ticket.events if e.action == "assignee"]
    assert assignments == [(None, world.agent.email), (world.agent.email, world.agent2.email)]


def test_a_stale_reply_is_held_with_its_draft_until_confirmed(client, world) -> None:
    ticket = factories.ticket(world.alice)
    seen_version = ticket.version
    tickets.reply(ticket, world.agent2, "Julien a déjà répondu.")  # meanwhile, a colleague
    login(client, world.agent)
    data = {"body": "Ma réponse en double", "kind": "reply", "status": "", "version": seen_version}
    response = client.post(f"/queue/tickets/{ticket.reference}/reply", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Julien a déjà répondu." in page  # the agent sees what changed
    assert "Ma réponse en double" in page  # the draft is kept
    assert "Envoyer quand même" in page
    db.session.refresh(ticket)
    assert [m.body_text for m in ticket.messages].count("Ma réponse en double") == 0
    data["version"] = ticket.version  # what the re-rendered form carries
    assert client.post(f"/queue/tickets/{ticket.reference}/reply", data=data).status_code == 302
    db.session.refresh(ticket)
    assert ticket.messages[-1].body_text == "Ma réponse en double"


def test_a_stale_field_change_does_not_overwrite(client, world) -> None:
    ticket = factories.ticket(world.alice)
    seen_version = ticket.version
    tickets.update_fields(ticket, world.agent2, expected_version=seen_version, priority=Priority.P1)
    login(client, world.agent)
    response = client.post(
        f"/queue/tickets/{ticket.reference}/fields",
        data={
            "status": "new",
            "priority": "P4",
            "category": "integration",
            "version": seen_version,
        },
    )
    assert response.status_code == 409
    db.session.refresh(ticket)
    assert ticket.priority is Priority.P1


def test_tampered_values_are_refused(client, world) -> None:
    ticket = factories.ticket(world.alice)
    login(client, world.agent)
    for data in (
        {"status": "deleted", "priority": "P1", "category": "run"},
        {"status": "open", "priority": "P9", "category": "run"},
        {"status": "open", "priority": "P1", "category": "run", "version": "abc"},
    ):
        data.setdefault("version", ticket.version)
        response = client.post(f"/queue/tickets/{ticket.reference}/fields", data=data)
        assert response.status_code == 400
    response = client.post(
        f"/queue/tickets/{ticket.reference}/assign",
        data={"assignee": "99999", "version": ticket.version},
    )
    assert response.status_code == 400
    db.session.refresh(ticket)
    assert (ticket.status, ticket.priority, ticket.assignee) == (Status.NEW, Priority.P3, None)


def test_unknown_ticket_is_404_for_agents_too(client, world) -> None:
    login(client, world.agent)
    assert client.get("/queue/tickets/FLOA-424242").status_code == 404
    assert client.post("/queue/tickets/FLOA-424242/take").status_code == 404


def test_ticket_page_statements_do_not_grow_with_the_conversation(client, world) -> None:
    from sqlalchemy import event

    def statements_for(reference: str) -> list[str]:
        db.session.expunge_all()  # the request loads what it shows, as in production
        seen: list[str] = []
        listener = lambda *args: seen.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert client.get(f"/queue/tickets/{reference}").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return seen

    short = factories.ticket(world.alice, "Court")
    long = factories.ticket(world.alice, "Long")
    # Both answered the same way, so that their clocks and statuses are alike; only the
    # length of their conversations differs.
    for ticket, count in ((short, 2), (long, 12)):
        for n in range(count):
            author = world.agent if n % 2 else world.alice
            tickets.reply(ticket, db.session.merge(author), f"Message {n}")
    short_ref, long_ref = short.reference, long.reference
    login(client, world.agent)
    statements_for(short_ref)  # warm: the login's own reads
    few, many = statements_for(short_ref), statements_for(long_ref)
    assert len(many) == len(few)
    # The SLA clocks come with the ticket, not in a query of their own.
    assert not [s for s in many if s.lstrip().startswith("SELECT sla_clock.")]
