import html
import re
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from supportit.db import db
from supportit.models import Category, Priority, Status
from supportit.services import queue, tickets
from tests import factories
from tests.conftest import login


def _refs(page: str) -> list[str]:
    """Ticket references in the order the queue lists them (each row links twice)."""
    return list(dict.fromkeys(re.findall(r'href="/queue/tickets/(FLOA-\d+)"', page)))


def _ids(response) -> set[str]:  # type: ignore[no-untyped-def]
    return set(_refs(response.get_data(as_text=True)))


@contextmanager
def _statements() -> Iterator[list[str]]:
    """The SQL statements run inside the block, in order."""
    statements: list[str] = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)


def test_merchants_cannot_open_the_queue(client, world) -> None:
    login(client, world.alice)
    assert client.get("/queue/").status_code == 404


def test_each_category_view_holds_its_active_tickets(client, world) -> None:
    run = factories.ticket(world.alice, "Paiements KO", category=Category.RUN)
    onboarding = factories.ticket(world.bob, "Identifiants", category=Category.ONBOARDING)
    closed_run = factories.ticket(world.alice, "Ancien incident", category=Category.RUN)
    tickets.close(closed_run, world.alice)
    login(client, world.agent)
    assert _ids(client.get("/queue/?view=run")) == {run.reference}
    assert _ids(client.get("/queue/?view=onboarding")) == {onboarding.reference}
    assert _ids(client.get("/queue/?view=open")) == {run.reference, onboarding.reference}
    assert _ids(client.get("/queue/?view=all")) == {
        run.reference,
        onboarding.reference,
        closed_run.reference,
    }


def test_mine_and_unassigned_views(client, world) -> None:
    mine = factories.ticket(world.alice, "À moi")
    theirs = factories.ticket(world.alice, "À Julien")
    nobody = factories.ticket(world.bob, "Personne")
    tickets.assign(mine, world.agent, world.agent)
    tickets.assign(theirs, world.agent, world.agent2)
    login(client, world.agent)
    assert _ids(client.get("/queue/?view=mine")) == {mine.reference}
    assert _ids(client.get("/queue/?view=unassigned")) == {nobody.reference}


def test_sidebar_counts_each_view(app, world) -> None:
    factories.ticket(world.alice, category=Category.RUN)
    factories.ticket(world.alice, category=Category.RUN)
    factories.ticket(world.bob, category=Category.ORDER_MANAGEMENT)
    counts = queue.view_counts(world.agent)
    assert counts["run"] == 2 and counts["order_management"] == 1
    assert counts["open"] == 3 and counts["unassigned"] == 3 and counts["mine"] == 0


def test_filters_by_status_priority_merchant_and_assignee(client, world) -> None:
    urgent = factories.ticket(world.alice, "Urgent", priority=Priority.P1)
    normal = factories.ticket(world.bob, "Normal")
    tickets.assign(normal, world.agent, world.agent2)
    login(client, world.agent)
    assert _ids(client.get("/queue/?priority=P1")) == {urgent.reference}
    assert _ids(client.get(f"/queue/?merchant={world.soleil.id}")) == {normal.reference}
    assert _ids(client.get(f"/queue/?assignee={world.agent2.id}")) == {normal.reference}
    assert _ids(client.get("/queue/?assignee=0")) == {urgent.reference}
    assert _ids(client.get("/queue/?status=open")) == {normal.reference}


def test_search_covers_reference_subject_body_and_order_references(client, world) -> None:
    by_subject = factories.ticket(world.alice, "Timeout floapay.aspx")
    by_body = factories.ticket(world.alice, "Question", body="Code 41000044 reçu")
    by_refnr = factories.ticket(world.bob, "Remboursement", ref_nr="CMD-4242")
    by_payid = factories.ticket(world.bob, "Capture", pay_id="abcdef0123456789")
    login(client, world.agent)
    assert _ids(client.get("/queue/?q=TIMEOUT")) == {by_subject.reference}
    assert _ids(client.get("/queue/?q=aspx")) == {by_subject.reference}
    assert _ids(client.get("/queue/?q=41000044")) == {by_body.reference}
    assert _ids(client.get("/queue/?q=reçu")) == {by_body.reference}
    assert _ids(client.get("/queue/?q=cmd-4242")) == {by_refnr.reference}
    assert _ids(client.get("/queue/?q=abcdef01")) == {by_payid.reference}  # a word's start
    assert _ids(client.get(f"/queue/?q={by_body.reference}")) == {by_body.reference}
    assert _ids(client.get(f"/queue/?q={by_body.reference} reçu")) == {by_body.reference}
    assert _ids(client.get(f"/queue/?q={by_body.reference} timeout")) == set()
    # A word that reads as a reference ("4242" is FLOA-004242) also finds it as a word.
    assert _ids(client.get("/queue/?q=4242")) == {by_refnr.reference}
    # Every word must match, each in the subject, a reference or a message.
    assert _ids(client.get("/queue/?q=question 41000044")) == {by_body.reference}
    assert _ids(client.get("/queue/?q=question timeout")) == set()
    assert _ids(client.get("/queue/?q=100%25")) == set()  # wildcards are not wildcards
    assert _ids(client.get("/queue/?q=%25")) != set()  # nothing searchable: no filter


def test_search_follows_edits_and_new_messages(client, world) -> None:
    ticket = factories.ticket(world.alice, "Première question")
    login(client, world.agent)
    assert _ids(client.get("/queue/?q=URLNotify")) == set()
    tickets.reply(ticket, world.agent, "Avez-vous reçu la notification URLNotify ?")
    assert _ids(client.get("/queue/?q=urlnotify")) == {ticket.reference}
    ticket.subject = "Notifications perdues"
    db.session.commit()
    assert _ids(client.get("/queue/?q=perdues")) == {ticket.reference}
    assert _ids(client.get("/queue/?q=Première")) == set()


def test_merchant_search_leaves_internal_notes_out(client, world) -> None:
    ticket = factories.ticket(world.alice, "Paiement refusé")
    tickets.reply(ticket, world.agent, "Marchand à surveiller de près", internal=True)
    login(client, world.alice)
    page = client.get("/portal/?show=all&q=surveiller").get_data(as_text=True)
    assert ticket.reference not in page
    page = client.get("/portal/?show=all&q=refusé").get_data(as_text=True)
    assert ticket.reference in page


def test_sort_by_priority_and_direction(client, world) -> None:
    low = factories.ticket(world.alice, "Bas", priority=Priority.P4)
    high = factories.ticket(world.alice, "Haut", priority=Priority.P1)
    login(client, world.agent)
    page = client.get("/queue/?sort=priority&dir=asc").get_data(as_text=True)
    assert _refs(page) == [high.reference, low.reference]
    page = client.get("/queue/?sort=priority&dir=desc").get_data(as_text=True)
    assert _refs(page) == [low.reference, high.reference]


def test_unknown_filter_values_are_reported_not_guessed(client, world) -> None:
    factories.ticket(world.alice)
    login(client, world.agent)
    response = client.get("/queue/?view=nope&status=lost&merchant=abc&sort=drop")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Certains filtres n&#39;ont pas été compris" in page
    assert "view" in page and "merchant" in page


def test_pagination_is_stable(client, world, app) -> None:
    created = [factories.ticket(world.alice, f"Ticket {i}") for i in range(30)]
    login(client, world.agent)
    first = _refs(client.get("/queue/?sort=reference&dir=asc").get_data(as_text=True))
    second = _refs(client.get("/queue/?sort=reference&dir=asc&page=2").get_data(as_text=True))
    assert first + second == [t.reference for t in created]
    assert client.get("/queue/?page=999").status_code == 200


def test_bulk_assign(client, world) -> None:
    first = factories.ticket(world.alice, "Un")
    second = factories.ticket(world.bob, "Deux")
    untouched = factories.ticket(world.bob, "Trois")
    login(client, world.agent)
    response = client.post(
        "/queue/bulk-assign",
        data={"ticket_ids": [first.id, second.id], "assignee": str(world.agent2.id)},
    )
    assert response.status_code == 302
    for ticket in (first, second, untouched):
        db.session.refresh(ticket)
    assert first.assignee == second.assignee == world.agent2
    assert untouched.assignee is None
    assert first.status is Status.OPEN
    assert first.events[-1].action in {"assignee", "status"}


def test_bulk_assign_refuses_a_merchant_as_assignee(client, world) -> None:
    ticket = factories.ticket(world.alice)
    login(client, world.agent)
    client.post(
        "/queue/bulk-assign", data={"ticket_ids": [ticket.id], "assignee": str(world.alice.id)}
    )
    db.session.refresh(ticket)
    assert ticket.assignee is None


def test_bulk_assign_without_selection_says_so(client, world) -> None:
    login(client, world.agent)
    response = client.post(
        "/queue/bulk-assign", data={"assignee": str(world.agent.id)}, follow_redirects=True
    )
    assert "Sélectionnez au moins un ticket." in response.get_data(as_text=True)


def test_queue_page_query_count_does_not_grow_with_the_page(client, world, app) -> None:
    def queries_for_queue_page() -> int:
        db.session.expunge_all()  # the request must load rows itself, as in production
        with _statements() as statements:
            assert client.get("/queue/").status_code == 200
        return len(statements)

    login(client, world.agent)
    alice, agent, agent2 = world.alice, world.agent, world.agent2
    for i in range(2):
        tickets.assign(factories.ticket(alice, f"T{i}"), agent, agent2)
    small = queries_for_queue_page()
    alice, agent, agent2 = (db.session.merge(u) for u in (alice, agent, agent2))
    for i in range(20):
        tickets.assign(factories.ticket(alice, f"T{i}"), agent, agent2 if i % 2 else agent)
    assert queries_for_queue_page() == small


def test_filter_by_creation_days_in_paris_time(client, world) -> None:
    from datetime import UTC, datetime

    late_evening = factories.ticket(world.alice, "Soir")  # 23:30 in Paris, 22:30 UTC
    late_evening.created_at = datetime(2026, 11, 26, 22, 30, tzinfo=UTC)
    next_morning = factories.ticket(world.alice, "Matin")
    next_morning.created_at = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
    db.session.commit()
    login(client, world.agent)
    day = "/queue/?view=all&created_from=2026-11-26&created_to=2026-11-26"
    assert _ids(client.get(day)) == {late_evening.reference}
    after = "/queue/?view=all&created_from=2026-11-27"
    assert _ids(client.get(after)) == {next_morning.reference}


def test_malformed_dates_are_reported_and_ignored(client, world) -> None:
    ticket = factories.ticket(world.alice)
    login(client, world.agent)
    response = client.get("/queue/?created_from=27/11/2026&created_to=2026-13-45")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "created_from, created_to" in page and "AAAA-MM-JJ" in page
    assert _ids(response) == {ticket.reference}


def test_a_search_matching_very_many_tickets_says_more_than_the_limit(
    client, world, monkeypatch
) -> None:
    monkeypatch.setattr(queue, "SEARCH_COUNT_LIMIT", 3)
    for n in range(5):
        factories.ticket(world.alice, f"Timeout numéro {n}")
    factories.ticket(world.alice, "Autre sujet")
    login(client, world.agent)
    page = html.unescape(client.get("/queue/?view=all&q=timeout").get_data(as_text=True))
    assert "plus de 3 tickets" in page
    assert len(_ids(client.get("/queue/?view=all&q=timeout"))) == 5  # all on the page
    page = html.unescape(client.get("/queue/?view=all&q=autre").get_data(as_text=True))
    assert "1 ticket" in page and "plus de" not in page


def test_a_search_counts_its_matches_on_every_page(client, world, app, monkeypatch) -> None:
    app.config["TICKETS_PER_PAGE"] = 2
    monkeypatch.setattr(queue, "SEARCH_COUNT_LIMIT", 4)
    for n in range(3):
        factories.ticket(world.alice, f"Timeout numéro {n}")
    login(client, world.agent)
    with _statements() as statements:
        first = html.unescape(client.get("/queue/?view=all&q=timeout").get_data(as_text=True))
        second = html.unescape(
            client.get("/queue/?view=all&q=timeout&page=2").get_data(as_text=True)
        )
    assert "3 ticket(s)" in first and "Page 1 sur 2" in first
    assert "3 ticket(s)" in second and len(_refs(second)) == 1
    # Past the end there is no row to carry the count: it is asked for on its own.
    past = html.unescape(client.get("/queue/?view=all&q=timeout&page=9").get_data(as_text=True))
    assert "3 ticket(s)" in past
    if db.engine.dialect.name == "postgresql":
        # The count comes with the page's ids: the matches are gathered once for both.
        searching = [s for s in statements if "ticket_search" in s]
        assert len(searching) == 2
        assert all("count(*)" in s and s.count("AS MATERIALIZED") == 1 for s in searching)
    factories.ticket(world.alice, "Timeout encore")
    factories.ticket(world.alice, "Timeout toujours")
    crowded = html.unescape(client.get("/queue/?view=all&q=timeout").get_data(as_text=True))
    assert "plus de 4 tickets" in crowded


def test_a_views_count_comes_with_its_page_on_postgresql(client, world, app) -> None:
    app.config["TICKETS_PER_PAGE"] = 2
    for n in range(3):
        factories.ticket(world.alice, f"Remboursement {n}")
    login(client, world.agent)
    with _statements() as statements:
        first = html.unescape(client.get("/queue/?view=all").get_data(as_text=True))
        second = html.unescape(client.get("/queue/?view=all&page=2").get_data(as_text=True))
    assert "3 ticket(s)" in first and "Page 1 sur 2" in first and len(_refs(first)) == 2
    assert "3 ticket(s)" in second and len(_refs(second)) == 1
    # Past the end there is no row to carry the count: it is asked for on its own.
    past = html.unescape(client.get("/queue/?view=all&page=9").get_data(as_text=True))
    assert "3 ticket(s)" in past and not _refs(past)
    # The view's count (not the sidebar's counts of every view, a statement of their own).
    counts = [s for s in statements if "FROM (SELECT ticket.id" in s]
    assert len(counts) == 2
    if db.engine.dialect.name == "postgresql":
        # In the statement of the page's ids: a round trip saved on each page.
        assert all(s.startswith("SELECT ticket.id, (SELECT count(*)") for s in counts)
