from io import BytesIO

from supportit.db import db
from supportit.models import MessageSource, Status
from supportit.services import tickets
from supportit.services.attachments import Upload
from tests import factories
from tests.conftest import login


def test_list_shows_the_merchants_tickets_with_status(client, world) -> None:
    ticket = factories.ticket(world.alice, "Timeout floapay.aspx")
    login(client, world.alice)
    page = client.get("/portal/").get_data(as_text=True)
    assert ticket.reference in page and "Timeout floapay.aspx" in page and "Nouveau" in page


def test_list_filters_active_and_done_tickets(client, world) -> None:
    active = factories.ticket(world.alice, "Toujours ouvert")
    done = factories.ticket(world.alice, "Déjà fermé")
    tickets.close(done, world.alice)
    login(client, world.alice)
    assert active.reference in client.get("/portal/").get_data(as_text=True)
    assert done.reference not in client.get("/portal/").get_data(as_text=True)
    assert done.reference in client.get("/portal/?show=done").get_data(as_text=True)
    page = client.get("/portal/?show=all").get_data(as_text=True)
    assert active.reference in page and done.reference in page


def test_list_search_finds_an_order_reference(client, world) -> None:
    wanted = factories.ticket(world.alice, "Remboursement", ref_nr="CMD-777")
    other = factories.ticket(world.alice, "Autre chose")
    login(client, world.alice)
    page = client.get("/portal/?q=cmd-777").get_data(as_text=True)
    assert wanted.reference in page and other.reference not in page


def test_ticket_page_shows_the_conversation_but_never_internal_notes(client, world) -> None:
    ticket = factories.ticket(world.alice)
    tickets.reply(ticket, world.agent, "Vérifiez le paramètre Amount.")
    tickets.reply(ticket, world.agent, "Secret: marchand difficile", internal=True)
    login(client, world.alice)
    page = client.get(f"/portal/tickets/{ticket.reference}").get_data(as_text=True)
    assert "Vérifiez le paramètre Amount." in page
    assert "marchand difficile" not in page
    assert "En attente du marchand" in page


def test_merchant_reply_goes_back_to_the_agents(client, world) -> None:
    ticket = factories.ticket(world.alice)
    tickets.reply(ticket, world.agent, "Pouvez-vous préciser ?")
    assert ticket.status is Status.PENDING_MERCHANT
    login(client, world.alice)
    response = client.post(
        f"/portal/tickets/{ticket.reference}/reply",
        data={"body": "Voici le TransID : TX-9", "attachments": [(BytesIO(b"log"), "log.txt")]},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    db.session.refresh(ticket)
    assert ticket.status is Status.OPEN
    last = ticket.messages[-1]
    assert (last.author, last.body_text, last.source) == (
        world.alice,
        "Voici le TransID : TX-9",
        MessageSource.WEB,
    )
    assert last.attachments[0].filename == "log.txt"


def test_empty_reply_is_refused_next_to_the_field(client, world) -> None:
    ticket = factories.ticket(world.alice)
    login(client, world.alice)
    response = client.post(f"/portal/tickets/{ticket.reference}/reply", data={"body": "   "})
    assert response.status_code == 400
    assert "Ce champ est requis." in response.get_data(as_text=True)
    db.session.refresh(ticket)
    assert len(ticket.messages) == 1


def test_html_in_a_message_is_shown_as_text(client, world) -> None:
    ticket = factories.ticket(
        world.alice, body='<script>alert("x")</script> voir https://a.example/x'
    )
    login(client, world.alice)
    page = client.get(f"/portal/tickets/{ticket.reference}").get_data(as_text=True)
    assert '<script>alert("x")' not in page
    assert "&lt;script&gt;" in page
    assert 'href="https://a.example/x"' in page


def test_merchant_closes_and_reopens(client, world) -> None:
    ticket = factories.ticket(world.alice)
    login(client, world.alice)
    client.post(f"/portal/tickets/{ticket.reference}/close")
    db.session.refresh(ticket)
    assert ticket.status is Status.CLOSED and ticket.closed_at is not None
    page = client.get(f"/portal/tickets/{ticket.reference}").get_data(as_text=True)
    assert "Rouvrir le ticket" in page
    client.post(f"/portal/tickets/{ticket.reference}/reopen")
    db.session.refresh(ticket)
    assert ticket.status is Status.OPEN and ticket.closed_at is None
    assert [e.action for e in ticket.events] == ["created", "closed", "reopened"]


def test_reply_to_a_closed_ticket_reopens_it(client, world) -> None:
    ticket = factories.ticket(world.alice)
    tickets.close(ticket, world.alice)
    login(client, world.alice)
    client.post(f"/portal/tickets/{ticket.reference}/reply", data={"body": "Le problème revient."})
    db.session.refresh(ticket)
    assert ticket.status is Status.OPEN


def test_attachment_is_served_as_a_download_never_inline(client, world) -> None:
    ticket = factories.ticket(
        world.alice, uploads=[Upload("page.html", b"<script>alert(1)</script>")]
    )
    attachment = ticket.attachments[0]
    login(client, world.alice)
    response = client.get(f"/portal/tickets/{ticket.reference}/attachments/{attachment.id}")
    assert response.status_code == 200
    assert response.data == b"<script>alert(1)</script>"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "page.html" in response.headers["Content-Disposition"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"]


def test_attachment_of_an_internal_note_is_hidden_from_the_merchant(client, world) -> None:
    ticket = factories.ticket(world.alice)
    tickets.reply(
        ticket,
        world.agent,
        "capture interne",
        internal=True,
        uploads=[Upload("interne.png", b"png")],
    )
    attachment = ticket.attachments[-1]
    login(client, world.alice)
    url = f"/portal/tickets/{ticket.reference}/attachments/{attachment.id}"
    assert client.get(url).status_code == 404


def test_unknown_ticket_number_is_a_clear_404(client, world) -> None:
    login(client, world.alice)
    for ref in ("FLOA-999999", "not-a-ticket", "FLOA-0x10", "%27%20OR%201=1"):
        response = client.get(f"/portal/tickets/{ref}")
        assert response.status_code == 404
        assert "Page introuvable" in response.get_data(as_text=True)


def test_agents_are_not_served_the_merchant_portal(client, world) -> None:
    login(client, world.agent)
    assert client.get("/portal/").status_code == 404


def test_reply_without_csrf_token_changes_nothing(csrf_app, world) -> None:
    client = csrf_app.test_client()
    ticket = factories.ticket(world.alice)
    page = client.get("/login").get_data(as_text=True)
    from tests.conftest import csrf_token

    client.post(
        "/login",
        data={
            "email": world.alice.email,
            "password": factories.PASSWORD,
            "csrf_token": csrf_token(page),
        },
    )
    response = client.post(f"/portal/tickets/{ticket.reference}/reply", data={"body": "forgé"})
    assert response.status_code == 400
    assert "Rien n'a été enregistré" in response.get_data(as_text=True)
    for action in ("close", "reopen"):
        assert client.post(f"/portal/tickets/{ticket.reference}/{action}").status_code == 400
    db.session.refresh(ticket)
    assert len(ticket.messages) == 1 and ticket.status is Status.NEW
