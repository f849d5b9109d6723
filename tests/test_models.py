from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from supportit.db import db
from supportit.models import Role, Ticket, TicketEvent, User
from supportit.models.ticket import AppendOnlyError
from tests import factories


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("FLOA-000123", 123),
        ("floa-123", 123),
        (" FLOA123 ", 123),
        ("42", 42),
        ("FLOA-", None),
        ("ABC-000123", None),
        ("1; DROP TABLE", None),
        ("", None),
        ("9999999999", None),
    ],
)
def test_reference_parsing(text: str, number: int | None) -> None:
    assert Ticket.number_from_reference(text) == number


def test_reference_is_padded_to_six_digits(world) -> None:
    ticket = factories.ticket(world.alice)
    assert ticket.reference == f"FLOA-{ticket.id:06d}"


def test_datetimes_are_stored_in_utc_and_come_back_aware(world) -> None:
    paris_winter = timezone(timedelta(hours=1))
    ticket = factories.ticket(world.alice)
    ticket.created_at = datetime(2026, 11, 27, 17, 0, tzinfo=paris_winter)
    db.session.commit()
    db.session.expire_all()
    loaded = db.session.get(Ticket, ticket.id)
    assert loaded.created_at == datetime(2026, 11, 27, 16, 0, tzinfo=UTC)
    assert loaded.created_at.tzinfo is not None


def test_naive_datetimes_are_refused(world) -> None:
    ticket = factories.ticket(world.alice)
    ticket.updated_at = datetime(2026, 1, 1, 12, 0)
    with pytest.raises(Exception, match="naive datetime"):
        db.session.commit()
    db.session.rollback()


def test_event_log_is_append_only(world) -> None:
    ticket = factories.ticket(world.alice)
    event = db.session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)).one()
    event.new_value = "rewritten history"
    with pytest.raises(AppendOnlyError):
        db.session.commit()
    db.session.rollback()


def test_a_merchant_user_must_belong_to_a_merchant(app) -> None:
    db.session.add(User(email="orphan@x.example", name="Orphan", role=Role.MERCHANT))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_staff_cannot_belong_to_a_merchant(world) -> None:
    db.session.add(
        User(email="mixed@x.example", name="Mixed", role=Role.AGENT, merchant=world.literie)
    )
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_unknown_category_is_refused_by_the_database(world) -> None:
    ticket = factories.ticket(world.alice)
    with pytest.raises(IntegrityError):
        db.session.execute(
            text("UPDATE ticket SET category = 'marketing' WHERE id = :id"), {"id": ticket.id}
        )
        db.session.commit()
    db.session.rollback()
