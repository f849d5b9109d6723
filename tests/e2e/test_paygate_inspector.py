"""In Chromium: from a RUN ticket, an agent pastes what the merchant sent, sees the faulty objects
highlighted, and adds the inspection to the ticket as an internal note."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.live import log_in

pytestmark = pytest.mark.e2e

SEED = Path(__file__).resolve().parent.parent / "fixtures" / "paygate" / "seed001_request.txt"


def test_agent_inspects_a_request_and_adds_it_to_the_ticket(new_page, live_server) -> None:
    page = new_page()
    log_in(page, live_server, "agent1@floa.example", "demo-agent")
    page.goto(f"{live_server}/queue/tickets/FLOA-000002")
    transactions = page.get_by_test_id("transactions")
    assert "erreur · manquant · Amount" in transactions.inner_text()  # the demo notification
    transactions.get_by_role("link", name="Inspecter une requête Paygate").click()
    assert page.get_by_label("Ticket auquel joindre le résultat").input_value() == "FLOA-000002"

    page.get_by_test_id("paste").fill(SEED.read_text())
    page.get_by_role("button", name="Inspecter", exact=True).click()
    findings = page.get_by_test_id("findings").inner_text()
    assert "TravelDetails n'est pas du JSON valide" in findings
    assert "vouliez-vous dire « category1 » ?" in findings
    row = page.get_by_test_id("params").locator("tr", has_text="ProductDetails")
    assert "table-danger" in (row.get_attribute("class") or "")
    assert page.get_by_label("Clé Blowfish ou AES").input_value() == ""  # keys never echoed

    page.get_by_role("button", name="Inspecter et ajouter au ticket").click()
    page.wait_for_url(f"{live_server}/queue/tickets/FLOA-000002")
    body = page.inner_text("body")
    assert "L'inspection a été ajoutée au ticket en note interne." in body
    assert "Requête · 44 paramètres · 4 erreurs, 4 avertissements" in body
