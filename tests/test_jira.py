"""Jira through the real `jira` client over HTTP, against a local server speaking its REST API:
creation from the outbox, no duplicate after a lost answer, Jira down for an hour, comments and
status changes coming back, the webhook and its shared secret."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from flask import Flask

from supportit.db import db, utcnow
from supportit.models import JiraLink, JiraState
from supportit.services import jira_sync
from supportit.services import onboarding as onboarding_service
from tests import factories
from tests.conftest import login
from tests.jira_server import TOKEN, USER, JiraServer


@pytest.fixture
def jira(app: Flask) -> Iterator[JiraServer]:
    server = JiraServer().start()
    app.config.update(
        JIRA_URL=server.url,
        JIRA_USER=USER,
        JIRA_TOKEN=TOKEN,
        JIRA_PROJECT="ONB",
        JIRA_TIMEOUT=2,
        JIRA_WEBHOOK_SECRET="shared-secret-for-tests",
    )
    yield server
    server.stop()


def _later(minutes: int):  # type: ignore[no-untyped-def]
    return utcnow() + timedelta(minutes=minutes)


def test_signature_creates_the_onboarding_issue_from_the_outbox(app, world, jira) -> None:
    started = onboarding_service.start(
        world.soleil, world.agent, products=["1XD"], signed_on=date.today()
    )
    link = jira_sync.link_for_onboarding(started)
    assert link.state is JiraState.PENDING and jira.creates == 0  # nobody waited on Jira
    assert jira_sync.push_pending() == 1
    assert link.issue_key == "ONB-1" and started.jira_key == "ONB-1"
    fields = jira.issues["ONB-1"]["fields"]
    assert "Voyages Soleil" in fields["summary"] and link.label in fields["labels"]
    told = next(e for e in started.events if e.kind == "jira")
    assert "ONB-1" in told.detail and told.data == {"what": "created", "key": "ONB-1"}


def test_jira_down_for_an_hour_loses_nothing_and_creates_once(app, world, jira) -> None:
    ticket = factories.ticket(world.alice, "Refus de capture en production")
    link = jira_sync.escalate_ticket(ticket, world.agent)
    jira.fail_next = [500]
    assert jira_sync.push_pending() == 0
    assert link.state is JiraState.PENDING and link.attempts == 1 and "HTTP 500" in link.last_error
    jira.fail_next = [401] * 3  # a revoked token, then Jira unreachable for an hour
    for minutes in (1, 3, 6):
        jira_sync.push_pending(_later(minutes))
    assert link.state is JiraState.PENDING and link.attempts == 4
    jira.lose_create_answer = True  # created, but the answer never comes back
    jira_sync.push_pending(_later(60))
    assert link.state is JiraState.PENDING and jira.creates == 1
    jira_sync.push_pending(_later(80))  # the retry finds it by its label
    assert link.state is JiraState.CREATED and link.issue_key == "ONB-1" and jira.creates == 1
    notes = [m.body_text for m in ticket.messages if m.internal]
    assert any("ONB-1" in note for note in notes)


def test_slow_jira_times_out_and_is_retried(app, world, jira) -> None:
    ticket = factories.ticket(world.alice)
    link = jira_sync.escalate_ticket(ticket, world.agent)
    jira.delay = 2.5  # over the 2 s timeout
    jira_sync.push_pending()
    assert link.state is JiraState.PENDING and "Timeout" in link.last_error
    jira.delay = 0
    jira_sync.push_pending(_later(5))
    assert link.state is JiraState.CREATED


def test_refused_fields_stop_the_retries_and_say_why(app, world, jira) -> None:
    ticket = factories.ticket(world.alice)
    link = jira_sync.escalate_ticket(ticket, world.agent)
    link.summary = ""
    db.session.commit()
    jira_sync.push_pending()
    assert link.state is JiraState.REFUSED and "summary" in link.last_error
    assert "Jira a refusé" in ticket.messages[-1].body_text


def test_comments_and_status_come_back_once(app, world, jira) -> None:
    ticket = factories.ticket(world.alice)
    link = jira_sync.escalate_ticket(ticket, world.agent)
    jira_sync.push_pending()
    before = len(ticket.messages)
    jira_sync.pull_updates()  # the first status is the starting point, not a change
    jira.comment(link.issue_key, "Le paramétrage Axepta est corrigé.")
    jira.set_status(link.issue_key, "Done")
    assert jira_sync.pull_updates() == 2
    assert jira_sync.pull_updates() == 0  # nothing told twice
    notes = [m.body_text for m in ticket.messages[before:]]
    assert any("Jean Dupont" in n and "Axepta est corrigé" in n for n in notes)
    assert any("Open → Done" in n for n in notes)
    assert all(m.internal for m in ticket.messages[before:])


def test_webhook_checks_its_secret_and_applies_once(app, client, world, jira) -> None:
    ticket = factories.ticket(world.alice)
    link = jira_sync.escalate_ticket(ticket, world.agent)
    jira_sync.push_pending()
    payload = {
        "webhookEvent": "comment_created",
        "issue": {"key": link.issue_key, "fields": {"status": {"name": "Open"}}},
        "comment": {"id": "777", "body": "Vu côté Axepta", "author": {"displayName": "Axel"}},
        "unexpected": {"whatever": [1, 2]},
    }
    assert client.post("/jira/webhook", json=payload).status_code == 403
    wrong = client.post("/jira/webhook", json=payload, headers={"X-SupportIT-Secret": "nope"})
    assert wrong.status_code == 403
    headers = {"X-SupportIT-Secret": "shared-secret-for-tests"}
    assert client.post("/jira/webhook", json=payload, headers=headers).json == {"told": 1}
    assert client.post("/jira/webhook", json=payload, headers=headers).json == {"told": 0}
    assert client.post("/jira/webhook", json={"issue": 5}, headers=headers).status_code == 400
    assert "Vu côté Axepta" in ticket.messages[-1].body_text


def test_agents_escalate_from_the_ticket_page(app, client, world, jira) -> None:
    ticket = factories.ticket(world.alice)
    login(client, world.agent)
    page = client.post(f"/queue/tickets/{ticket.reference}/jira", follow_redirects=True)
    assert "Escaladé vers Jira" in page.get_data(as_text=True)
    assert db.session.query(JiraLink).count() == 1
    again = client.post(f"/queue/tickets/{ticket.reference}/jira", follow_redirects=True)
    assert "déjà escaladé" in again.get_data(as_text=True)
