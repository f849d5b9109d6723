"""In Chromium, during an incident on capture.aspx: the merchant sees the banner, opens a RUN
ticket that gets linked, and the public status page says so in French and English; the agent
finds the ticket on the incident."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from supportit.db import db, utcnow
from supportit.models import CheckStatus, Incident, IncidentEvent, Monitor
from tests.e2e.live import log_in

pytestmark = pytest.mark.e2e


def test_incident_seen_by_merchant_public_and_agent(browser, live_app, live_server, new_page):
    with live_app.app_context():
        monitor = db.session.scalar(select(Monitor).where(Monitor.name == "Paygate capture.aspx"))
        incident = Incident(
            monitor_id=monitor.id,
            title=monitor.name,
            worst=CheckStatus.DOWN,
            opened_at=utcnow(),
            events=[IncidentEvent(kind="opened", detail="HTTP 500, expected 200")],
        )
        db.session.add(incident)
        db.session.commit()
        incident_id = incident.id

    merchant = new_page()
    log_in(merchant, live_server, "bob@voyages-soleil.example", "demo-bob")
    banner = merchant.get_by_test_id("service-incident")
    assert "Capture (capture.aspx)" in banner.inner_text()
    merchant.get_by_role("link", name="Nouveau ticket", exact=True).click()
    assert "Un incident est en cours" in merchant.get_by_test_id("incident-on-form").inner_text()
    merchant.get_by_role("radio", name="Incident de production (RUN)").check()
    merchant.get_by_label("Objet", exact=True).fill("Nos captures échouent")
    merchant.get_by_label("Description", exact=True).fill("HTTP 500 sur capture.aspx.")
    merchant.get_by_role("button", name="Envoyer le ticket").click()
    merchant.wait_for_load_state()
    reference = merchant.locator("h1").inner_text().split()[0]

    public = browser.new_context(locale="en-GB").new_page()
    public.goto(f"{live_server}/status")
    assert "FLOA Pay service status" in public.inner_text("h1")
    assert "Capture (capture.aspx)" in public.get_by_test_id("status-ongoing").inner_text()
    public.get_by_role("button", name="FR", exact=True).click()
    public.wait_for_load_state()
    assert "État des services FLOA Pay" in public.inner_text("h1")
    public.context.close()

    agent = new_page()
    log_in(agent, live_server, "agent1@floa.example", "demo-agent")
    agent.get_by_role("link", name="Supervision", exact=True).click()
    agent.get_by_test_id("open-incidents").get_by_role("link").first.click()
    assert agent.url.endswith(f"/queue/incidents/{incident_id}")
    assert reference in agent.inner_text("body")
