"""In Chromium: a merchant opens a ticket with a file, an agent replies, the merchant reads it."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.live import log_in

pytestmark = pytest.mark.e2e


def test_merchant_opens_agent_replies_merchant_reads(new_page, live_server, tmp_path: Path) -> None:
    log_file = tmp_path / "paygate-response.txt"
    log_file.write_text("Status=FAILED&Code=21000005&Description=Amount missing\n")

    merchant = new_page()
    log_in(merchant, live_server, "alice@maliterie.example", "demo-alice")
    merchant.get_by_role("link", name="Nouveau ticket", exact=True).click()
    merchant.get_by_role("radio", name="Intégration / recette").check()
    merchant.get_by_label("Objet", exact=True).fill("Code 21000005 sur une commande 3X")
    merchant.get_by_label("Produit FLOA Pay", exact=True).select_option("3X")
    merchant.get_by_label("Environnement", exact=True).select_option("integration")
    merchant.get_by_label("Référence de commande (RefNr)", exact=True).fill("CMD-E2E-1")
    merchant.get_by_label("Description", exact=True).fill("Notre commande de test est refusée.")
    merchant.get_by_label("Pièces jointes", exact=True).set_input_files(str(log_file))
    merchant.get_by_role("button", name="Envoyer le ticket").click()
    merchant.wait_for_load_state()
    heading = merchant.locator("h1").inner_text()
    reference = heading.split()[0]
    assert reference.startswith("FLOA-")
    assert "paygate-response.txt" in merchant.content()

    agent = new_page()
    log_in(agent, live_server, "agent2@floa.example", "demo-agent")
    agent.get_by_role("link", name="Intégration / recette").first.click()
    agent.get_by_role("link", name=reference).first.click()
    assert "Ma Literie" in agent.get_by_test_id("merchant").inner_text()
    # The merchant's panel follows the page: its MID once the browser has fetched it.
    assert "maliterie_prod" in agent.locator(".merchant-context").inner_text()
    with agent.expect_download() as download:
        agent.get_by_role("link", name="paygate-response.txt").click()
    assert Path(download.value.path()).read_text().startswith("Status=FAILED")
    agent.get_by_label("Votre réponse", exact=True).fill(
        "Bonjour, Amount manque dans la chaîne chiffrée."
    )
    agent.get_by_role("button", name="Envoyer", exact=True).click()
    agent.wait_for_load_state()
    assert "Réponse envoyée au marchand." in agent.content()
    assert "En attente du marchand" in agent.content()
    # The history comes when opened: the reply and its change of status.
    agent.locator("#history summary").click()
    history = agent.locator("#history [data-history] ul")
    expect(history).to_contain_text("Julien Moreau")
    assert "pending_merchant" in history.inner_text()

    merchant.reload()
    assert "Amount manque dans la chaîne chiffrée." in merchant.content()
    assert "En attente du marchand" in merchant.content()


def test_internal_note_never_reaches_the_merchant(new_page, live_server) -> None:
    agent = new_page()
    log_in(agent, live_server, "agent1@floa.example", "demo-agent")
    agent.goto(f"{live_server}/queue/tickets/FLOA-000002")
    agent.get_by_text("Note interne", exact=True).click()
    agent.get_by_label("Votre réponse", exact=True).fill(
        "À surveiller : marchand en production depuis peu."
    )
    agent.get_by_role("button", name="Envoyer", exact=True).click()
    agent.wait_for_load_state()
    assert "Note interne ajoutée." in agent.content()

    merchant = new_page()
    log_in(merchant, live_server, "alice@maliterie.example", "demo-alice")
    merchant.goto(f"{live_server}/portal/tickets/FLOA-000002")
    assert "Timeout sur floapay.aspx" in merchant.content()
    assert "marchand en production depuis peu" not in merchant.content()


def test_alice_gets_404_on_bobs_ticket_in_the_browser(new_page, live_server) -> None:
    merchant = new_page()
    log_in(merchant, live_server, "alice@maliterie.example", "demo-alice")
    response = merchant.goto(f"{live_server}/portal/tickets/FLOA-000007")
    assert response.status == 404
    assert "Page introuvable" in merchant.content()
    assert "21000005 lors du test de recette" not in merchant.content()


def test_language_switch_to_english(new_page, live_server) -> None:
    page = new_page()
    log_in(page, live_server, "bob@voyages-soleil.example", "demo-bob")
    page.get_by_role("button", name="EN", exact=True).click()
    page.wait_for_load_state()
    assert "My tickets" in page.content()
    page.get_by_role("button", name="FR", exact=True).click()
    page.wait_for_load_state()
    assert "Mes tickets" in page.content()


def test_an_agent_splits_a_message_out_after_confirming(new_page, live_server) -> None:
    agent = new_page()
    log_in(agent, live_server, "agent1@floa.example", "demo-agent")
    agent.goto(f"{live_server}/queue/tickets/FLOA-000002")
    agent.get_by_label("Votre réponse", exact=True).fill(
        "Autre question : un remboursement partiel."
    )
    agent.get_by_role("button", name="Envoyer", exact=True).click()
    expect(agent.get_by_text("Réponse envoyée au marchand.")).to_be_visible()
    split = agent.locator(".conversation article").last.get_by_role("button", name="Séparer")

    # Cancelling the question keeps the message where it is.
    agent.once("dialog", lambda dialog: dialog.dismiss())
    split.click()
    expect(agent.locator("h1")).to_contain_text("FLOA-000002")

    agent.once("dialog", lambda dialog: dialog.accept())
    split.click()
    expect(agent.get_by_text("Le message est désormais le ticket")).to_be_visible()
    assert "FLOA-000002" not in agent.locator("h1").inner_text()
    expect(agent.locator(".conversation")).to_contain_text("un remboursement partiel")
