from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import pytest
from sqlalchemy import event, inspect, select
from sqlalchemy.exc import IntegrityError

from supportit import inserts
from supportit.db import db
from supportit.intake import pipeline
from supportit.models import (
    Attachment,
    Category,
    Environment,
    InboundMail,
    InboundStatus,
    Message,
    MessageSource,
    OutboundMail,
    Priority,
    Product,
    SlaClock,
    Ticket,
    TicketEvent,
    TicketFlag,
    TicketPresence,
    TicketSearch,
)
from supportit.models.classification import TicketClassification
from supportit.services import tickets
from supportit.services.attachments import Upload
from tests import factories
from tests.conftest import login
from tests.test_portal_new_ticket import VALID

# Each table a new ticket writes, and what of a row differs between two tickets opened alike:
# the rows' ids, and the acknowledgement's Message-ID (the ticket's number and a random part).
_WRITTEN = (Ticket, Message, Attachment, TicketEvent, SlaClock, TicketClassification, OutboundMail)
_NAMING = {"id", "ticket_id", "message_id"}


@contextmanager
def _orm_flushes() -> Iterator[list[object]]:
    """The flush contexts of the ORM's flushes in the block: `flush_inserts` passes none."""
    contexts: list[object] = []

    def record(session: object, context: object | None) -> None:
        if context is not None:
            contexts.append(context)

    event.listen(db.session(), "after_flush", record)
    try:
        yield contexts
    finally:
        event.remove(db.session(), "after_flush", record)


def _rows(ticket: Ticket) -> dict[str, list[dict[str, object]]]:
    """What each table holds of `ticket`: its values, the ticket's reference and times made
    comparable (two tickets opened a moment apart)."""
    found: dict[str, list[dict[str, object]]] = {}
    for model in _WRITTEN:
        table = model.__table__
        key = table.c.id if model is Ticket else table.c.ticket_id
        rows = db.session.execute(select(table).where(key == ticket.id).order_by(table.c.id))
        found[table.name] = [
            {
                name: (
                    datetime
                    if isinstance(value, datetime)
                    else value.replace(ticket.reference, "REF")
                    if isinstance(value, str)
                    else value
                )
                for name, value in row._mapping.items()
                if name not in _NAMING
            }
            for row in rows
        ]
    search = db.session.get(TicketSearch, ticket.id)
    found["ticket_search"] = [{"public": search.public_text.replace(ticket.reference, "REF")}]
    return found


def _open(world, variant: str, linked: Ticket | None = None) -> Ticket:
    """A new ticket as each way in opens one: a merchant's form with files, a mail from a
    stranger, a production problem with its order references and copied colleagues."""
    if variant == "stranger":
        return tickets.open_ticket(
            None,
            None,
            tickets.NewTicket(
                subject="Paiement refusé",
                category=Category.INTEGRATION,
                category_chosen=False,
                body="Bonjour, le paiement est refusé.",
                source=MessageSource.EMAIL,
                requester_email="someone@unknown.example",
                flag=TicketFlag.SENDER_UNKNOWN,
                linked_ticket=linked,
                mail=tickets.MailOrigin(message_id="<x-1@unknown.example>", html="<p>Bonjour</p>"),
            ),
        )
    if variant == "production":
        return factories.ticket(
            world.alice,
            "Paiements refusés en production",
            category=Category.RUN,
            priority=Priority.P2,
            environment=Environment.PRODUCTION,
            product=Product.X3,
            ref_nr="CMD-2026-1",
            trans_id="TX-1",
            pay_id="PAY-1",
            cc_emails=["dev@maliterie.example"],
        )
    return factories.ticket(
        world.alice,
        "Paiement refusé",
        body="Le paiement est refusé, voir le journal joint.",
        uploads=[Upload("paygate.log", b"Status=FAILED"), Upload("capture.txt", b"Code 21000005")],
    )


@pytest.mark.parametrize("variant", ["form", "stranger", "production"])
def test_a_new_ticket_is_written_the_same_by_plain_inserts_as_by_the_orm(
    world, monkeypatch, variant
):
    with _orm_flushes() as flushes:
        plain = _open(world, variant)
    assert flushes == [], "the new ticket's rows went through the ORM's flush"
    monkeypatch.setattr(inserts, "_insertable", lambda session: None)
    with _orm_flushes() as flushes:
        orm = _open(world, variant)
    assert flushes
    db.session.expire_all()
    assert _rows(plain) == _rows(orm)
    assert len(_rows(plain)["sla_clock"]) == 2
    # Found by its number, with its conversation and files, as any ticket.
    found = tickets.by_reference(plain.reference)
    assert found is not None and found.messages[0].body_text
    assert len(found.messages[0].attachments) == (2 if variant == "form" else 0)


def test_a_ticket_linked_to_an_earlier_one_is_written_plainly(world):
    earlier = _open(world, "form")
    with _orm_flushes() as flushes:
        linked = _open(world, "stranger", linked=earlier)
    assert flushes == []
    db.session.expire_all()
    assert db.session.get(Ticket, linked.id).linked_ticket_id == earlier.id


def test_rows_written_plainly_are_persistent_as_after_a_flush(world):
    statements: list[str] = []

    def record(*args: object) -> None:
        statements.append(str(args[2]))

    ticket = Ticket(merchant=world.literie, subject="Timeout", category=Category.INTEGRATION)
    ticket.messages.append(Message(author=world.alice, body_text="x", body_html="<p>x</p>"))
    db.session.add(ticket)
    inserts.flush_inserts(db.session())
    event.listen(db.engine, "before_cursor_execute", record)
    try:
        state = inspect(ticket)
        assert state.persistent and not db.session.new
        # What the database was given, defaults included, is known without asking it.
        assert ticket.id and ticket.version == 1 and ticket.cc_emails == []
        assert ticket.created_at is not None and ticket.messages[0].ticket_id == ticket.id
        assert db.session.get(Ticket, ticket.id) is ticket
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert statements == []


def test_a_rollback_forgets_rows_written_plainly(world):
    ticket = Ticket(merchant=world.literie, subject="Timeout", category=Category.INTEGRATION)
    db.session.add(ticket)
    inserts.flush_inserts(db.session())
    number = ticket.id
    db.session.rollback()
    assert inspect(ticket).transient
    assert db.session.get(Ticket, number) is None
    # The next ticket may take the same number: no stale object stands in its way (a warning,
    # an error in these tests).
    again = factories.ticket(world.alice, "Remboursement")
    assert db.session.get(Ticket, again.id) is again


def test_anything_but_new_rows_goes_to_the_orm(world):
    ticket = factories.ticket(world.alice)
    ticket.subject = "Paiement 4X refusé"
    db.session.add(TicketEvent(ticket=ticket, action="subject", new_value="Paiement 4X refusé"))
    with _orm_flushes() as flushes:
        inserts.flush_inserts(db.session())
    assert flushes
    # A row of a table with a two-column key is the ORM's to write.
    db.session.add(TicketPresence(ticket_id=ticket.id, user=world.agent))
    with _orm_flushes() as flushes:
        inserts.flush_inserts(db.session())
    assert flushes
    db.session.commit()
    assert db.session.get(TicketPresence, (ticket.id, world.agent.id)) is not None


def test_a_failed_insert_leaves_the_objects_without_an_id(world):
    first = factories.ticket(world.alice)
    duplicate = SlaClock(ticket_id=first.id, kind=first.sla_clocks[0].kind, target_minutes=1)
    db.session.add(duplicate)
    with pytest.raises(IntegrityError):
        inserts.flush_inserts(db.session())
    assert duplicate.id is None
    db.session.rollback()


def test_a_mail_filed_as_a_new_ticket_points_at_the_rows_written_plainly(world):
    """The mail's record is written after the ticket and message it names, with their keys."""
    raw = (
        b"From: alice@maliterie.example\r\nTo: support-it-floapay@floa.example\r\n"
        b"Subject: Paiement 4X refuse\r\nMessage-ID: <plain-1@maliterie.example>\r\n\r\nBonjour\r\n"
    )
    with _orm_flushes() as flushes:
        record = pipeline.ingest(raw, channel="smtp")
    assert flushes == []
    db.session.expire_all()
    filed = db.session.get(InboundMail, record.id)
    assert filed.status is InboundStatus.NEW_TICKET
    assert filed.ticket.requester == world.alice
    assert filed.message is filed.ticket.messages[0]
    assert filed.message.email_message_id == "<plain-1@maliterie.example>"


def test_a_ticket_opened_on_the_portal_is_written_plainly(client, world):
    """The acknowledgement is rendered in the merchant's request, whose pages ask for the
    incidents in progress: that query must not flush the new ticket through the ORM first."""
    login(client, world.alice)
    with _orm_flushes() as flushes:
        response = client.post("/portal/tickets/new", data=VALID)
    assert response.status_code == 302
    assert flushes == []
    assert db.session.scalars(select(Ticket)).one().subject == VALID["subject"]
