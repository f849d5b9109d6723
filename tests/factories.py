"""Small builders for test data; they add to the session and leave committing to the caller."""

from __future__ import annotations

from supportit.db import db
from supportit.models import Category, Merchant, Role, Ticket, User
from supportit.services import tickets
from supportit.services.attachments import Upload

PASSWORD = "correct horse battery"


def user(email: str, role: Role, merchant: Merchant | None = None, *, name: str = "") -> User:
    person = User(email=email, name=name or email.split("@")[0], role=role, merchant=merchant)
    person.set_password(PASSWORD)
    db.session.add(person)
    return person


def ticket(
    requester: User,
    subject: str = "Paiement 3X refusé",
    *,
    category: Category = Category.INTEGRATION,
    body: str = "Notre commande de test est refusée avec le Code 21000005.",
    uploads: list[Upload] | None = None,
    **fields: object,
) -> Ticket:
    assert requester.merchant is not None
    return tickets.open_ticket(
        requester.merchant,
        requester,
        tickets.NewTicket(
            subject=subject, category=category, body=body, uploads=uploads or [], **fields
        ),
    )
