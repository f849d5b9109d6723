import re
from io import BytesIO
from pathlib import Path

from sqlalchemy import func, select

from supportit.db import db
from supportit.models import Attachment, Category, Message, Status, Ticket, TicketEvent
from tests.conftest import login

VALID = {
    "category": "integration",
    "subject": "Code 21000005 en recette",
    "product": "3X",
    "environment": "integration",
    "priority": "P2",
    "ref_nr": "CMD-2026-0001",
    "trans_id": "TX-1",
    "pay_id": "",
    "body": "Notre commande de test est refusée.",
}


def _count(model) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(select(func.count()).select_from(model))


def test_form_explains_each_category_and_offers_the_merchants_products(client, world) -> None:
    login(client, world.alice)
    page = client.get("/portal/tickets/new").get_data(as_text=True)
    for label in (
        "Onboarding / paramétrage",
        "Intégration / recette",
        "Incident de production (RUN)",
        "Gestion des commandes",
    ):
        assert label in page
    assert "Paygate" in page and "remboursement" in page
    assert 'value="3X"' in page and 'value="4X"' in page
    assert 'value="1XD"' not in page  # Ma Literie does not sell deferred payment


def test_merchant_opens_a_ticket_with_an_attachment(client, world, app) -> None:
    login(client, world.alice)
    data = dict(VALID, attachments=[(BytesIO(b"%PDF-1.4 logs"), "paygate log.pdf")])
    response = client.post("/portal/tickets/new", data=data, content_type="multipart/form-data")
    ticket = db.session.scalars(select(Ticket)).one()
    assert response.status_code == 302
    assert response.headers["Location"] == f"/portal/tickets/{ticket.reference}"
    assert (ticket.category, ticket.status, ticket.priority.value) == (
        Category.INTEGRATION,
        Status.NEW,
        "P2",
    )
    assert (ticket.ref_nr, ticket.trans_id, ticket.pay_id) == ("CMD-2026-0001", "TX-1", None)
    assert ticket.merchant == world.literie and ticket.requester == world.alice
    message = ticket.messages[0]
    assert message.body_text == VALID["body"] and not message.internal
    attachment = message.attachments[0]
    assert (attachment.filename, attachment.size) == ("paygate log.pdf", 13)
    stored = Path(app.config["ATTACHMENT_DIR"]) / attachment.sha256[:2] / attachment.sha256
    assert stored.read_bytes() == b"%PDF-1.4 logs"
    assert [e.action for e in ticket.events] == ["created"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert ticket.reference in page and "paygate log.pdf" in page


def test_missing_fields_are_explained_and_nothing_is_saved(client, world) -> None:
    login(client, world.alice)
    response = client.post("/portal/tickets/new", data={"subject": "", "body": ""})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Merci de choisir une catégorie." in page
    assert page.count("Ce champ est requis.") >= 2
    assert _count(Ticket) == 0 and _count(Message) == 0


def test_malformed_order_reference_is_refused(client, world) -> None:
    login(client, world.alice)
    response = client.post("/portal/tickets/new", data=dict(VALID, ref_nr="CMD 12<script>"))
    assert "Lettres, chiffres et . _ - : / uniquement." in response.get_data(as_text=True)
    assert _count(Ticket) == 0


def test_tampered_category_or_product_is_refused(client, world) -> None:
    login(client, world.alice)
    for tampered in ({"category": "marketing"}, {"product": "1XD"}, {"priority": "P0"}):
        response = client.post("/portal/tickets/new", data=dict(VALID, **tampered))
        assert response.status_code == 200
        assert "invalid-feedback" in response.get_data(as_text=True)
    assert _count(Ticket) == 0


def test_empty_upload_is_refused_and_nothing_is_saved(client, world, app) -> None:
    login(client, world.alice)
    data = dict(VALID, attachments=[(BytesIO(b""), "empty.txt")])
    response = client.post("/portal/tickets/new", data=data, content_type="multipart/form-data")
    assert "Le fichier empty.txt est vide." in response.get_data(as_text=True)
    assert _count(Ticket) == 0 and _count(Attachment) == 0 and _count(TicketEvent) == 0


def test_oversized_upload_is_refused_with_the_limit(client, world, app) -> None:
    login(client, world.alice)
    big = BytesIO(b"x" * (app.config["ATTACHMENT_MAX_BYTES"] + 1))
    data = dict(VALID, attachments=[(big, "huge.log")])
    response = client.post("/portal/tickets/new", data=data, content_type="multipart/form-data")
    assert "Le fichier huge.log dépasse 1 Mo." in response.get_data(as_text=True)
    assert _count(Ticket) == 0


def test_request_over_the_global_limit_gets_a_clear_413(client, world, app) -> None:
    login(client, world.alice)
    data = dict(VALID, attachments=[(BytesIO(b"x" * (app.config["MAX_CONTENT_LENGTH"] + 10)), "a")])
    response = client.post("/portal/tickets/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 413
    assert "Rien n'a été enregistré" in response.get_data(as_text=True)
    assert _count(Ticket) == 0


def test_too_many_files_are_refused(client, world, app) -> None:
    login(client, world.alice)
    files = [(BytesIO(b"x"), f"f{i}.txt") for i in range(app.config["ATTACHMENTS_PER_MESSAGE"] + 1)]
    response = client.post(
        "/portal/tickets/new",
        data=dict(VALID, attachments=files),
        content_type="multipart/form-data",
    )
    assert "5 fichiers par message au maximum." in response.get_data(as_text=True)
    assert _count(Ticket) == 0


def test_category_can_be_preselected_from_the_url(client, world) -> None:
    login(client, world.alice)
    page = client.get("/portal/tickets/new?category=run").get_data(as_text=True)
    checked = re.findall(r'<input[^>]*name="category"[^>]*>', page)
    assert [tag for tag in checked if "checked" in tag] == [
        tag for tag in checked if 'value="run"' in tag
    ]
