"""Alice (Ma Literie) can never see or touch Bob's (Voyages Soleil) tickets, by any URL.

The routes come from the app's URL map, so a route added later is swept by default.
"""

from __future__ import annotations

import time

import pytest
import time_machine
from flask import Flask

from supportit.db import db
from supportit.services import tickets
from supportit.services.attachments import Upload
from tests import factories
from tests.conftest import login

SKIP_ENDPOINTS = {"static", "bootstrap.static"}


def _urls(app: Flask, values: dict[str, object]) -> list[tuple[str, str, str]]:
    """(endpoint, method, url) for every route, with parameters filled from `values`."""
    found = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if rule.endpoint in SKIP_ENDPOINTS:
                continue
            missing = rule.arguments - values.keys()
            assert not missing, f"the sweep does not know how to fill {missing} in {rule}"
            from flask import url_for

            url = url_for(rule.endpoint, **{k: values[k] for k in rule.arguments})
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                found.append((rule.endpoint, method, url))
    return found


@pytest.fixture
def bobs_ticket(world):
    ticket = factories.ticket(
        world.bob,
        "Secret de Voyages Soleil",
        ref_nr="VS-SECRET-1",
        uploads=[Upload("contrat-soleil.pdf", b"%PDF confidential")],
    )
    tickets.reply(ticket, world.agent, "Réponse confidentielle pour Bob")
    return ticket


def test_every_route_hides_bobs_ticket_from_alice(app, client, world, bobs_ticket) -> None:
    from datetime import date

    from supportit.services import onboarding

    bobs_onboarding = onboarding.start(
        world.soleil, world.agent, products=["1XD"], signed_on=date(2026, 11, 2)
    )
    evidence = onboarding.add_evidence(
        bobs_onboarding.steps[1], world.agent, "", None, Upload("kbis.pdf", b"%PDF confidential")
    )
    from supportit.services import api_tokens

    bobs_token, _ = api_tokens.create(world.bob, "Bob's ERP", ["tickets:read"])
    # Alice's own token rides on every request, so the API is swept as her too.
    _, alices_token = api_tokens.create(
        world.alice, "Alice's ERP", ["tickets:read", "tickets:write"]
    )
    version = bobs_ticket.version
    messages = len(bobs_ticket.messages)
    values = {
        "reference": bobs_ticket.reference,
        "attachment_id": bobs_ticket.attachments[0].id,
        "mail_id": 1,
        "alert_id": 1,
        "action": "ack",
        "token": "not-a-signed-token",
        "day": "2027-05-07",
        "rotation_id": 1,
        "override_id": 1,
        "user_id": 1,
        "account_id": 1,
        "monitor_id": 1,
        "incident_id": 1,
        "window_id": 1,
        "change": "pause",
        "onboarding_id": bobs_onboarding.id,
        "step_id": bobs_onboarding.steps[1].id,
        "check_id": bobs_onboarding.checks[0].id,
        "evidence_id": evidence.id,
        "slug": "mac-hmac",
        "team": "daf",
        "template_id": 1,
        "article_id": 1,
        "version": 1,
        "token_id": bobs_token.id,
        "reply_id": 1,
        "view_id": 1,
        "message_id": bobs_ticket.messages[0].id,
        "merchant": bobs_ticket.merchant_id,
    }
    login(client, world.alice)
    swept = 0
    for endpoint, method, url in _urls(app, values):
        if endpoint in {"auth.logout", "auth.login"}:
            continue
        response = client.open(
            url,
            method=method,
            headers={"Authorization": f"Bearer {alices_token}"},
            data={
                "body": "intrusion",
                "status": "closed",
                "assignee": "",
                "version": version,
                "ticket_ids": [bobs_ticket.id],
                "lang": "fr",
            },
        )
        body = response.get_data(as_text=True)
        assert "Secret de Voyages Soleil" not in body, (method, url)
        assert "Réponse confidentielle" not in body, (method, url)
        assert b"%PDF confidential" not in response.data, (method, url)
        takes_ticket = "reference" in url or endpoint.startswith(("queue.", "alerts.", "replies."))
        # Paygate's and Jira's callbacks are public (a MAC, a shared secret); the rest: staff.
        takes_ticket = takes_ticket or (
            endpoint.startswith(("paygate.", "supervision.", "onboarding."))
            and endpoint
            not in (
                "paygate.notify",
                "supervision.status",
                "onboarding.mine",
                "onboarding.jira_webhook",
            )
        )
        if takes_ticket:
            assert response.status_code == 404, (method, url, response.status_code)
        swept += 1
    assert swept >= 15
    db.session.refresh(bobs_ticket)
    db.session.refresh(bobs_token)
    assert bobs_token.revoked_at is None
    assert bobs_ticket.version == version
    assert len(bobs_ticket.messages) == messages


def test_alices_list_and_search_never_show_bobs_tickets(client, world, bobs_ticket) -> None:
    login(client, world.alice)
    for url in (
        "/portal/",
        "/portal/?show=all",
        "/portal/?q=VS-SECRET-1",
        f"/portal/?q={bobs_ticket.reference}",
        "/portal/?q=Secret",
    ):
        page = client.get(url).get_data(as_text=True)
        assert f"/tickets/{bobs_ticket.reference}" not in page
        assert "Secret de Voyages Soleil" not in page
        assert "Aucun ticket" in page


def test_not_found_and_not_yours_look_the_same(client, world, bobs_ticket) -> None:
    login(client, world.alice)
    # Both at the same instant: the forms' CSRF tokens carry the second they were signed in,
    # and a slow request could otherwise end in the next second (seen in CI on PostgreSQL).
    with time_machine.travel(time.time(), tick=False):
        theirs = client.get(f"/portal/tickets/{bobs_ticket.reference}")
        missing = client.get("/portal/tickets/FLOA-999999")
    assert theirs.status_code == missing.status_code == 404
    # Identical but for the URL itself, echoed in the language switch.
    assert theirs.get_data(as_text=True).replace(bobs_ticket.reference, "FLOA-999999") == (
        missing.get_data(as_text=True)
    )


def test_bob_sees_his_own_ticket(client, world, bobs_ticket) -> None:
    login(client, world.bob)
    page = client.get(f"/portal/tickets/{bobs_ticket.reference}").get_data(as_text=True)
    assert "Secret de Voyages Soleil" in page and "Réponse confidentielle pour Bob" in page
