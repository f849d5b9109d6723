"""In Chromium: a merchant writing a ticket is shown the article that answers it and stops
there; an agent finds an article beside a ticket and inserts it into the reply in one click."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from supportit.db import db
from supportit.models import Deflection, Ticket
from tests.e2e.live import log_in

pytestmark = pytest.mark.e2e


def test_a_merchant_is_answered_before_sending(live_app, live_server, new_page) -> None:
    with live_app.app_context():
        tickets_before = db.session.scalar(select(func.count(Ticket.id)))
    page = new_page()
    log_in(page, live_server, "alice@maliterie.example", "demo-alice")
    page.get_by_role("link", name="Nouveau ticket", exact=True).click()
    page.wait_for_load_state()  # the form's script is listening before we type
    subject = "Nos notifications URLNotify ne sont plus reçues"
    page.get_by_role("textbox", name="Objet").fill(subject)
    suggestions = page.get_by_test_id("suggestions")
    suggestions.wait_for()
    assert "Je ne reçois plus les notifications de paiement" in suggestions.inner_text()
    suggestions.locator("li").filter(has_text="Je ne reçois plus").get_by_role(
        "button", name="Cela a résolu mon problème"
    ).click()
    page.wait_for_load_state()
    assert page.get_by_test_id("solved").is_visible()
    assert "Aucun ticket n'a été ouvert" in page.inner_text("body")
    with live_app.app_context():
        assert db.session.scalar(select(func.count(Ticket.id))) == tickets_before
        deflection = db.session.scalar(select(Deflection))
        assert deflection.subject == subject


def test_an_agent_inserts_an_article_in_one_click(live_app, live_server, new_page) -> None:
    page = new_page()
    log_in(page, live_server, "agent2@floa.example", "demo-agent")
    page.goto(f"{live_server}/queue/tickets/FLOA-000007")
    panel = page.locator("#kb-panel")
    panel.get_by_role("button", name="Insérer").first.click()
    reply = page.locator("textarea#body")
    assert "/help/reading-paygate-code" in reply.input_value()
    url_before = page.url
    panel.get_by_placeholder("Chercher un article").fill("remboursement partiel")
    panel.get_by_role("button", name="Rechercher").click()
    page.get_by_test_id("agent-suggestions").filter(has_text="Rembourser un client").wait_for()
    assert page.url == url_before  # searched in place, the draft is still there
    panel.locator("li").filter(has_text="Rembourser un client").get_by_role(
        "button", name="Insérer"
    ).click()
    text = reply.input_value()
    assert "/help/reading-paygate-code" in text and "/help/refund-credit" in text
    assert "https://floapay.readme.io/reference/order-cancellation" in text
