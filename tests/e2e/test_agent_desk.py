"""In Chromium: two agents on one ticket see each other and never answer twice by accident; a
canned reply answers in two clicks."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.live import log_in

pytestmark = pytest.mark.e2e

TICKET = "FLOA-000001"


def test_two_agents_never_answer_the_same_merchant_twice(new_page, live_server, live_app) -> None:
    live_app.config["PRESENCE_BEAT_SECONDS"] = 1  # the page beats every second here
    claire = new_page()
    log_in(claire, live_server, "agent1@floa.example", "demo-agent")
    julien = new_page()
    log_in(julien, live_server, "agent2@floa.example", "demo-agent")
    claire.goto(f"{live_server}/queue/tickets/{TICKET}")
    julien.goto(f"{live_server}/queue/tickets/{TICKET}")

    expect(claire.get_by_test_id("colleague")).to_contain_text(
        "Julien Moreau consulte aussi ce ticket."
    )
    julien.get_by_label("Votre réponse", exact=True).fill("Bonjour, je regarde votre commande.")
    expect(claire.get_by_test_id("colleague")).to_contain_text(
        "Julien Moreau est en train de rédiger une réponse"
    )

    # Claire answers first; Julien is told before he sends.
    claire.get_by_label("Votre réponse", exact=True).fill("Bonjour, le MAC est à recalculer.")
    claire.get_by_role("button", name="Envoyer", exact=True).click()
    expect(claire.get_by_text("Réponse envoyée au marchand.")).to_be_visible()
    expect(julien.get_by_test_id("said-since")).to_contain_text(
        "Claire Dubois a répondu au marchand."
    )

    # Sending anyway asks for confirmation, with Claire's answer and his draft both shown.
    julien.get_by_role("button", name="Envoyer", exact=True).click()
    expect(julien.get_by_text("Modifié entre-temps.")).to_be_visible()
    expect(julien.locator(".conversation")).to_contain_text("le MAC est à recalculer")
    expect(julien.get_by_label("Votre réponse", exact=True)).to_have_value(
        "Bonjour, je regarde votre commande."
    )
    expect(julien.get_by_role("button", name="Envoyer quand même")).to_be_visible()
    assert julien.locator(".conversation").inner_text().count("je regarde votre commande") == 0

    # Reading first: the link reloads the ticket and the draft is still there.
    julien.goto(f"{live_server}/queue/tickets/{TICKET}")
    expect(julien.get_by_label("Votre réponse", exact=True)).to_have_value(
        "Bonjour, je regarde votre commande."
    )


def test_a_canned_reply_answers_in_two_clicks(new_page, live_server) -> None:
    agent = new_page()
    log_in(agent, live_server, "agent1@floa.example", "demo-agent")
    agent.goto(f"{live_server}/queue/tickets/{TICKET}")
    panel = agent.get_by_test_id("canned-panel")
    # It arrives with the side panels, and takes its place above the ticket's details.
    expect(panel).to_be_visible()
    expect(agent.locator("#canned-slot")).to_have_count(0)
    expect(agent.locator("#ticket-context #canned-panel")).to_have_count(0)
    panel.get_by_text("Erreur de MAC (HMAC)").click()  # 1: the reply, written out for the ticket
    item = panel.locator("details[open]")
    expect(item).to_contain_text("/help/mac-hmac")
    item.get_by_role("button", name="Envoyer cette réponse").click()  # 2: sent
    expect(
        agent.get_by_text("Réponse type « Erreur de MAC (HMAC) » envoyée au marchand.")
    ).to_be_visible()
    expect(agent.locator(".conversation article").last).to_contain_text("/help/mac-hmac")


def test_a_canned_reply_can_be_edited_before_sending(new_page, live_server) -> None:
    agent = new_page()
    log_in(agent, live_server, "agent1@floa.example", "demo-agent")
    agent.goto(f"{live_server}/queue/tickets/{TICKET}")
    panel = agent.get_by_test_id("canned-panel")
    panel.get_by_placeholder("Filtrer").fill("rembours")
    expect(panel.get_by_text("Erreur de MAC (HMAC)")).to_be_hidden()
    panel.get_by_text("Remboursement total ou partiel").click()
    panel.get_by_role("link", name="Modifier avant d'envoyer").click()
    body = agent.get_by_label("Votre réponse", exact=True)
    assert "credit.aspx" in body.input_value()
    assert agent.locator("#reply-form select[name=status]").input_value() == "resolved"
    body.press("End")
    body.type("\nPS : le PayID est dans votre back-office.")
    agent.get_by_role("button", name="Envoyer", exact=True).click()
    expect(agent.get_by_text("Réponse envoyée au marchand.")).to_be_visible()
    expect(agent.locator(".conversation article").last).to_contain_text("PS : le PayID")


def test_keyboard_shortcuts_walk_the_queue_and_answer(new_page, live_server) -> None:
    agent = new_page()
    log_in(agent, live_server, "agent1@floa.example", "demo-agent")
    agent.goto(f"{live_server}/queue/")
    # The demo's shared views show their counts once the page has asked for them.
    expect(agent.locator("[data-saved-count]").first).to_be_visible()
    expect(agent.locator("[data-saved-count]").first).to_have_text(re.compile(r"^\d"))
    rows = agent.locator("[data-queue-list] tbody tr")
    refs = [rows.nth(i).get_attribute("data-reference") for i in range(3)]
    agent.keyboard.press("j")
    agent.keyboard.press("j")
    expect(rows.nth(1)).to_have_class("table-active")
    agent.keyboard.press("x")
    expect(rows.nth(1).locator(".ticket-select")).to_be_checked()
    agent.keyboard.press("o")
    expect(agent.locator("h1")).to_contain_text(refs[1])
    agent.wait_for_load_state()

    agent.keyboard.press("?")
    expect(agent.get_by_role("heading", name="Raccourcis clavier")).to_be_visible()
    agent.keyboard.press("Escape")
    agent.keyboard.press("n")
    expect(agent.locator("#reply-form input[name=kind][value=note]")).to_be_checked()
    expect(agent.get_by_label("Votre réponse", exact=True)).to_be_focused()
    agent.keyboard.type("Vu au point du matin.")
    agent.keyboard.press("Control+Enter")
    expect(agent.get_by_text("Note interne ajoutée.")).to_be_visible()
    agent.wait_for_load_state()

    agent.keyboard.press("a")
    expect(agent.get_by_text(f"Le ticket {refs[1]} vous est attribué.")).to_be_visible()
    agent.wait_for_load_state()
    agent.keyboard.press("j")
    expect(agent.locator("h1")).to_contain_text(refs[2])
    agent.wait_for_load_state()
    agent.keyboard.press("u")
    expect(agent.locator("[data-queue-list]")).to_be_visible()
