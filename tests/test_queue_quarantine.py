from pathlib import Path

from supportit.db import db
from supportit.intake import pipeline
from supportit.models import InboundReason, InboundStatus, MessageSource
from tests import factories
from tests.conftest import login

FIXTURES = Path(__file__).parent / "fixtures" / "mail"


def _quarantined(name: str = "38_staff_unthreaded"):  # type: ignore[no-untyped-def]
    record = pipeline.ingest((FIXTURES / f"{name}.eml").read_bytes(), channel="eml")
    assert record.status is InboundStatus.QUARANTINED
    return record


def test_agents_see_quarantined_mail_with_its_reason_in_their_language(client, world) -> None:
    record = _quarantined()
    assert record.reason_code is InboundReason.STAFF_WITHOUT_TICKET
    login(client, world.agent)
    page = client.get("/queue/mail/").get_data(as_text=True)
    assert "Note pour moi" in page
    assert "Envoyé depuis une adresse FLOA mais ne répond à aucun ticket" in page
    assert "Quarantaine" in client.get("/queue/").get_data(as_text=True)
    client.post("/language", data={"lang": "en"})
    page = client.get("/queue/mail/").get_data(as_text=True)
    assert "Sent by a FLOA address but answers no ticket" in page


def test_the_original_is_downloadable(client, world) -> None:
    record = _quarantined()
    login(client, world.agent)
    response = client.get(f"/queue/mail/{record.id}/raw")
    assert response.data == (FIXTURES / "38_staff_unthreaded.eml").read_bytes()
    assert response.headers["Content-Disposition"].startswith("attachment;")


def test_make_it_a_ticket(client, world) -> None:
    record = _quarantined("32_missing_from")
    login(client, world.agent)
    response = client.post(f"/queue/mail/{record.id}/ticket")
    db.session.refresh(record)
    assert record.status is InboundStatus.NEW_TICKET
    assert response.headers["Location"] == f"/queue/tickets/{record.ticket.reference}"
    assert record.ticket.messages[0].source is MessageSource.EMAIL
    note = record.ticket.messages[-1]
    assert note.internal and note.author == world.agent  # who released it, and why
    assert note.body_text == "Sorti de quarantaine (Pas d'adresse d'expéditeur)."
    assert record.handled_by == world.agent


def test_add_it_to_a_ticket(client, world) -> None:
    ticket = factories.ticket(world.alice)
    record = _quarantined()
    login(client, world.agent)
    client.post(f"/queue/mail/{record.id}/attach", data={"reference": ticket.reference})
    db.session.refresh(record)
    assert record.status is InboundStatus.REPLY and record.ticket == ticket
    assert "À ne pas transformer en ticket." in [m.body_text for m in ticket.messages]


def test_a_bad_reference_changes_nothing(client, world) -> None:
    record = _quarantined()
    login(client, world.agent)
    assert (
        client.post(f"/queue/mail/{record.id}/attach", data={"reference": "x"}).status_code == 302
    )
    assert (
        client.post(
            f"/queue/mail/{record.id}/attach", data={"reference": "FLOA-999999"}
        ).status_code
        == 404
    )
    db.session.refresh(record)
    assert record.status is InboundStatus.QUARANTINED


def test_discard_keeps_it_out_of_the_list_but_in_the_archive(client, world) -> None:
    record = _quarantined()
    login(client, world.agent)
    client.post(f"/queue/mail/{record.id}/discard")
    db.session.refresh(record)
    assert record.status is InboundStatus.DISCARDED and record.handled_by == world.agent
    assert record.reason_code is InboundReason.STAFF_WITHOUT_TICKET  # why it needed a person
    assert "Note pour moi" not in client.get("/queue/mail/").get_data(as_text=True)
    response = client.post(f"/queue/mail/{record.id}/ticket", follow_redirects=True)
    assert "Ce mail a déjà été traité." in response.get_data(as_text=True)


def test_merchants_never_see_the_quarantine(client, world) -> None:
    record = _quarantined()
    login(client, world.alice)
    assert client.get("/queue/mail/").status_code == 404
    assert client.get(f"/queue/mail/{record.id}/raw").status_code == 404
