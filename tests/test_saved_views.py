"""Saved views: agents keep queue filters under a name, for themselves or the team, and see
how many tickets each holds in the sidebar."""

from __future__ import annotations

import html

import pytest
from sqlalchemy import select

from supportit.db import db
from supportit.models import Category, Priority, SavedView
from supportit.services import saved_views, tickets
from supportit.services.errors import ServiceError
from tests import factories
from tests.conftest import login


def test_the_same_filters_make_the_same_view() -> None:
    assert saved_views.normalise("?page=3&priority=P1&view=run&q=&sort=sla") == (
        "view=run&priority=P1&sort=sla"
    )
    assert saved_views.normalise("q=code+21000005&view=open") == "view=open&q=code+21000005"


def test_views_count_their_tickets_and_stay_with_their_owner(world) -> None:
    run = [factories.ticket(world.alice, category=Category.RUN, priority=Priority.P1)]
    run.append(factories.ticket(world.bob, category=Category.RUN, priority=Priority.P1))
    factories.ticket(world.alice, category=Category.RUN, priority=Priority.P3)
    tickets.assign(run[0], world.agent, world.agent)
    urgent = saved_views.save(world.agent, "RUN urgents", "view=run&priority=P1", shared=True)
    mine = saved_views.save(world.agent, "Mes P1", "view=mine&priority=P1", shared=False)
    assert saved_views.counts(world.agent, [urgent, mine]) == {
        urgent.id: (2, False),
        mine.id: (1, False),
    }
    assert [v.name for v in saved_views.visible_to(world.agent2)] == ["RUN urgents"]
    assert saved_views.get_for(world.agent2, mine.id) is None
    assert saved_views.visible_to(world.alice) == []
    with pytest.raises(ServiceError):
        saved_views.delete(world.agent2, urgent)  # the team's: its author or an admin
    saved_views.delete(world.admin, urgent)
    with pytest.raises(ServiceError):
        saved_views.save(world.agent, "  ", "view=run", shared=False)
    with pytest.raises(ServiceError):
        saved_views.save(world.agent, "Bizarre", "view=nowhere", shared=False)
    with pytest.raises(ServiceError):
        saved_views.save(world.alice, "Espion", "view=open", shared=False)


def test_saving_and_using_a_view_from_the_queue(client, world) -> None:
    factories.ticket(world.alice, category=Category.RUN, priority=Priority.P1)
    login(client, world.agent)
    response = client.post(
        "/queue/views",
        data={"name": "RUN P1", "query": "view=run&priority=P1&page=2", "shared": "1"},
    )
    assert response.headers["Location"].endswith("/queue/?view=run&priority=P1")
    page = html.unescape(client.get("/queue/?view=run&priority=P1").get_data(as_text=True))
    assert "RUN P1" in page and "data-saved-count" in page
    assert "saved-view active" in page  # the view being looked at is highlighted
    view = db.session.scalars(select(SavedView)).one()
    # The counts come after the page, one request for all the views.
    assert client.get("/queue/views/counts").get_json() == {str(view.id): "1"}
    assert view.shared and view.created_by == world.agent
    refused = client.post(
        "/queue/views", data={"name": "", "query": "view=run"}, follow_redirects=True
    )
    assert "Donnez un nom à la vue." in html.unescape(refused.get_data(as_text=True))

    client.post("/logout")
    login(client, world.agent2)
    mine = saved_views.save(world.agent, "À moi", "view=mine", shared=False)
    assert client.post(f"/queue/views/{mine.id}/delete").status_code == 404
    kept = client.post(f"/queue/views/{view.id}/delete", follow_redirects=True)
    assert "Seul son auteur ou un administrateur" in html.unescape(kept.get_data(as_text=True))
    assert db.session.get(SavedView, view.id) is not None
