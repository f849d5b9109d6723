"""The tickets the mail fixtures refer to: FLOA-000001 to FLOA-000004, with known Message-IDs."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from supportit.db import db, utcnow
from supportit.models import Contact, OutboundMail, Status
from supportit.services import tickets
from tests import factories

TICKET1_ACK = "<FLOA-000001.ack@floa.example>"
TICKET1_REPLY = "<FLOA-000001.reply@floa.example>"
ALICE_FIRST_MAIL = "<alice-1@maliterie.example>"


def build(world) -> dict[int, object]:  # type: ignore[no-untyped-def]
    world.literie.contacts.append(Contact(name="Paul Lefèvre", email="dev@maliterie.example"))
    first = factories.ticket(world.alice, "Notifications non reçues")
    first.messages[0].email_message_id = ALICE_FIRST_MAIL
    ack = db.session.scalar(select(OutboundMail).where(OutboundMail.ticket_id == first.id))
    ack.message_id = TICKET1_ACK
    tickets.reply(first, world.agent, "Pouvez-vous nous donner le TransID ?")
    reply = db.session.scalars(
        select(OutboundMail).where(OutboundMail.kind == "reply", OutboundMail.ticket_id == first.id)
    ).one()
    reply.message_id = TICKET1_REPLY
    bobs = factories.ticket(world.bob, "Recette 1XD")
    old = factories.ticket(world.alice, "Ancienne question")
    tickets.close(old, world.alice)
    old.closed_at = utcnow() - timedelta(days=60)
    recent = factories.ticket(world.alice, "Remboursement")
    tickets.close(recent, world.alice)
    recent.closed_at = utcnow() - timedelta(days=2)
    db.session.commit()
    assert [t.id for t in (first, bobs, old, recent)] == [1, 2, 3, 4]
    assert old.status is Status.CLOSED
    return {1: first, 2: bobs, 3: old, 4: recent}
