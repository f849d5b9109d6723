"""`supportit demo generate`: benchmark volumes that look like years of real support."""

from datetime import timedelta

from sqlalchemy import func, select

from supportit.db import db, utcnow
from supportit.models import (
    ACTIVE_STATUSES,
    Category,
    Message,
    SlaClock,
    Status,
    Ticket,
    TicketEvent,
    TicketSearch,
)
from supportit.services import queue, tickets
from tests.conftest import login


def _count(model) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def test_generate_fills_tickets_messages_events_and_clocks(app) -> None:
    result = app.test_cli_runner().invoke(
        args=["demo", "generate", "--tickets", "300", "--messages-per-ticket", "4"]
    )
    assert result.exit_code == 0, result.output
    assert "Generated 300 tickets" in result.output
    assert _count(Ticket) == 300
    assert 300 * 3 < _count(Message) < 300 * 5
    assert _count(TicketEvent) >= 300 and _count(SlaClock) == 600
    assert _count(TicketSearch) == 300  # every ticket searchable, though written by Core
    # Old tickets are finished; the backlog is recent; every queue has tickets.
    old = utcnow() - timedelta(days=60)
    assert not db.session.scalar(
        select(func.count()).where(Ticket.created_at < old, Ticket.status.in_(ACTIVE_STATUSES))
    )
    assert db.session.scalar(select(func.count()).where(Ticket.status.in_(ACTIVE_STATUSES)))
    categories = set(db.session.scalars(select(Ticket.category).distinct()))
    assert categories == set(Category)
    # Ids grow with time, as in production; no message is dated before its ticket.
    created = list(db.session.scalars(select(Ticket.created_at).order_by(Ticket.id)))
    assert created == sorted(created)
    assert not db.session.scalar(
        select(func.count())
        .select_from(Message)
        .join(Ticket)
        .where(Message.created_at < Ticket.created_at)
    )


def test_generated_tickets_are_searchable_and_the_service_continues_after_them(
    app, world, client
) -> None:
    assert app.test_cli_runner().invoke(args=["demo", "generate", "--tickets", "50"]).exit_code == 0
    closed = db.session.scalar(select(Ticket).where(Ticket.status == Status.CLOSED))
    word = closed.subject.split()[0]
    matching = db.session.scalars(
        queue.queue_select(world.agent, queue.QueueFilter(view="all", q=closed.reference))
    ).all()
    assert [t.id for t in matching] == [closed.id]
    assert closed.id in {
        t.id
        for t in db.session.scalars(
            queue.queue_select(world.agent, queue.QueueFilter(view="all", q=word))
        )
    }
    # The id sequences (PostgreSQL) continue after the generated rows.
    last = db.session.scalar(select(func.max(Ticket.id)))
    from tests import factories

    new = factories.ticket(world.alice, "Après la génération")
    tickets.reply(new, world.agent, "Réponse")
    assert new.id > last
    login(client, world.agent)
    assert client.get("/queue/?view=all&page=2").status_code == 200


def test_generate_twice_adds_merchants_with_new_names(app) -> None:
    runner = app.test_cli_runner()
    for _ in range(2):
        result = runner.invoke(args=["demo", "generate", "--tickets", "20", "--merchants", "5"])
        assert result.exit_code == 0, result.output
    assert _count(Ticket) == 40


def test_generate_refuses_a_production_instance(app) -> None:
    app.config["SUPPORTIT_ENV"] = "production"
    result = app.test_cli_runner().invoke(args=["demo", "generate", "--tickets", "5"])
    assert result.exit_code != 0
    assert "refuses" in result.output
    assert _count(Ticket) == 0
