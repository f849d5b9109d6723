import pytest
from sqlalchemy.orm import Session

from supportit import inserts
from supportit.db import db
from supportit.models import Message, Priority, Status, Ticket
from supportit.services import tickets
from supportit.services.attachments import Upload
from supportit.services.errors import ServiceError, StaleTicket
from tests import factories


def test_two_agents_saving_at_the_same_moment_do_not_overwrite_each_other(world) -> None:
    ticket = factories.ticket(world.alice)
    version = ticket.version
    # A second worker changes the same row between our read and our write.
    with Session(db.engine) as other:
        theirs = other.get(Ticket, ticket.id)
        theirs.priority = Priority.P1
        other.commit()
    with pytest.raises(StaleTicket):
        tickets.update_fields(
            ticket, world.agent, expected_version=version, category=ticket.category.__class__("run")
        )
    db.session.expire_all()
    fresh = db.session.get(Ticket, ticket.id)
    assert fresh.priority is Priority.P1 and fresh.category.value == "integration"


def test_merchant_cannot_write_internal_notes(world) -> None:
    ticket = factories.ticket(world.alice)
    with pytest.raises(ServiceError):
        tickets.reply(ticket, world.alice, "note", internal=True)


def test_merchant_cannot_reply_to_another_merchants_ticket(world) -> None:
    ticket = factories.ticket(world.alice)
    with pytest.raises(ServiceError):
        tickets.reply(ticket, world.bob, "intrusion")
    db.session.rollback()
    assert len(db.session.get(Ticket, ticket.id).messages) == 1


def test_merchant_reply_on_a_new_ticket_keeps_it_new(world) -> None:
    ticket = factories.ticket(world.alice)
    tickets.reply(ticket, world.alice, "Précision : TransID TX-1")
    assert ticket.status is Status.NEW


def test_first_response_is_the_first_public_agent_reply(world) -> None:
    ticket = factories.ticket(world.alice)
    tickets.reply(ticket, world.agent, "note", internal=True)
    assert ticket.first_response_at is None
    tickets.reply(ticket, world.agent, "réponse")
    first = ticket.first_response_at
    tickets.reply(ticket, world.agent, "deuxième réponse")
    assert ticket.first_response_at == first


def test_only_staff_change_fields_or_assign(world) -> None:
    ticket = factories.ticket(world.alice)
    with pytest.raises(ServiceError):
        tickets.update_fields(ticket, world.alice, expected_version=None, priority=Priority.P1)
    with pytest.raises(ServiceError):
        tickets.assign(ticket, world.alice, world.agent)


def test_every_change_bumps_the_version(world) -> None:
    ticket = factories.ticket(world.alice)
    versions = [ticket.version]
    tickets.reply(ticket, world.agent, "réponse")
    versions.append(ticket.version)
    tickets.assign(ticket, world.agent, world.agent)
    versions.append(ticket.version)
    assert versions == sorted(set(versions))


def test_subject_and_body_are_validated(world) -> None:
    for subject, body in (("", "x"), ("x" * 201, "x"), ("ok", " \n "), ("ok", "x" * 50_001)):
        with pytest.raises(ServiceError):
            factories.ticket(world.alice, subject, body=body)
        db.session.rollback()
    assert db.session.query(Ticket).count() == 0


def test_a_production_ticket_is_not_loaded_again_after_its_commit(world) -> None:
    from sqlalchemy import event

    from supportit.models import Category
    from supportit.services.tickets import NewTicket

    seen: list[str] = []
    listen = lambda *args: seen.append(args[2])  # noqa: E731
    committed = lambda *args: seen.append("COMMIT")  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listen)
    event.listen(db.engine, "commit", committed)
    try:
        ticket = tickets.open_ticket(
            world.literie,
            world.alice,
            NewTicket("Paiements refusés en production", Category.RUN, "Plus rien ne passe."),
        )
    finally:
        event.remove(db.engine, "before_cursor_execute", listen)
        event.remove(db.engine, "commit", committed)
    after = seen[len(seen) - seen[::-1].index("COMMIT") :]
    # Only the incidents in progress are looked up (none here): the ticket itself is not read.
    assert after and all(s.lstrip().startswith("SELECT incident.") for s in after), after
    assert ticket.category is Category.RUN


def test_a_new_ticket_and_its_acknowledgement_are_written_in_one_flush(world) -> None:
    """The acknowledgement names the ticket, so it is written after the flush that numbers the
    ticket; as an object for the session it cost a second flush, about 7% of filing a mail."""
    from sqlalchemy import event, select
    from sqlalchemy.orm import Session

    from supportit.models import OutboundMail

    flushes: list[int] = []

    def counting(session: Session, context: object, instances: object) -> None:
        flushes.append(len(session.new) + len(session.dirty))

    event.listen(Session, "before_flush", counting)
    try:
        ticket = factories.ticket(world.alice, "Refus 21000005", body="Le paiement est refusé.")
    finally:
        event.remove(Session, "before_flush", counting)
    assert [n for n in flushes if n] == [flushes[0]], flushes  # one flush wrote anything
    ack = db.session.scalars(select(OutboundMail).where(OutboundMail.ticket_id == ticket.id)).one()
    assert ack.kind == "ack" and ack.to_addrs == [world.alice.email]
    assert ticket.reference in ack.subject and ticket.reference in ack.message_id
    assert ack.status.value == "pending" and ack.created_at is not None


def test_a_new_tickets_acknowledgement_is_rendered_before_the_flush_that_numbers_it(world) -> None:
    """That flush takes SQLite's write lock, held until the commit: rendering the three
    templates before it lets the other intake process file its mail meanwhile. The mail is
    rendered with a stand-in for the number; what is written names the ticket everywhere."""
    from flask import template_rendered
    from sqlalchemy import event, select
    from sqlalchemy.orm import Session

    from supportit.models import OutboundMail

    order: list[str] = []

    def rendered(sender: object, template, context: object, **extra: object) -> None:
        order.append(template.name)

    def flushed(session: Session, context: object) -> None:
        order.append("flush")

    template_rendered.connect(rendered)
    event.listen(Session, "after_flush", flushed)
    try:
        ticket = factories.ticket(world.alice, "Refus 21000005", body="Le paiement est refusé.")
    finally:
        template_rendered.disconnect(rendered)
        event.remove(Session, "after_flush", flushed)
    assert order[: order.index("flush")] == [
        "email/ack.subject.txt",
        "email/ack.txt",
        "email/ack.html",
    ]
    ack = db.session.scalars(select(OutboundMail).where(OutboundMail.ticket_id == ticket.id)).one()
    for written in (ack.subject, ack.message_id, ack.body_text, ack.body_html):
        assert ticket.reference in written and "unnumbered" not in written, written
    assert f"/portal/tickets/{ticket.reference}" in ack.body_html


def test_a_new_ticket_without_a_linked_one_flushes_without_a_dependency_cycle(
    world, monkeypatch
) -> None:
    """Setting the self-referential link, even to None, makes the ORM sort a ticket's insert
    row by row through a dependency cycle: a millisecond of every mail the intake files.

    The ORM's flush, as when the session holds other changes than the new ticket's rows (on
    its own, they are written by plain inserts: tests/test_inserts.py)."""
    from sqlalchemy.util import topological

    monkeypatch.setattr(inserts, "_insertable", lambda session: None)

    cycles: list[set[object]] = []
    find_cycles = topological.find_cycles

    def recording(tuples: object, allitems: object) -> set[object]:
        found = find_cycles(tuples, allitems)
        cycles.append(found)
        return found

    monkeypatch.setattr(topological, "find_cycles", recording)
    plain = factories.ticket(world.alice)
    assert cycles and not any(cycles)

    linked = factories.ticket(world.alice, "Suite", linked_ticket=plain)
    assert linked.linked_ticket is plain
    assert db.session.get(Ticket, linked.id).linked_ticket_id == plain.id


def test_a_conversation_is_read_as_rows_with_its_authors_and_files(world) -> None:
    ticket = factories.ticket(world.alice, uploads=[Upload("journal.log", b"Status=FAILED")])
    tickets.reply(ticket, world.agent, "Voici la correction.", time_spent=20)
    tickets.reply(
        ticket,
        world.agent2,
        "Vu avec Paygate.",
        internal=True,
        uploads=[Upload("capture.png", b"\x89PNG note")],
    )
    reference = ticket.reference
    db.session.expunge_all()

    page = tickets.by_reference(reference, conversation=False)
    shown = tickets.conversation(page)
    # Rows, not the ORM's messages: none is built for a page that only shows them.
    assert not [o for o in db.session.identity_map.values() if isinstance(o, Message)]
    assert [
        (m.author.name, m.internal, m.time_spent, [(a.filename, a.size) for a in m.attachments])
        for m in shown
    ] == [
        ("Alice", False, None, [("journal.log", 13)]),
        ("Claire Agent", False, 20, []),
        ("Julien Agent", True, None, [("capture.png", 9)]),
    ]
    assert [m.body_html for m in shown][1] == "<p>Voici la correction.</p>"
    # The merchant's side: never the internal note, nor its file.
    assert [m.id for m in tickets.conversation(page, public=True)] == [m.id for m in shown[:2]]
    # A ticket whose messages are loaded already tells the same from them.
    loaded = tickets.by_reference(reference)
    assert tickets.conversation(loaded) == shown
    assert tickets.conversation(loaded, public=True) == shown[:2]
