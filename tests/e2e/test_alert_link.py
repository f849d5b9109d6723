"""In Chromium, on a phone at night: the on-call engineer acknowledges an alert from the link
in their page, without logging in; opening the link alone changes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from supportit.db import db
from supportit.models import Alert, AlertStatus
from supportit.services import alerts
from supportit.services.users import find_by_email

pytestmark = pytest.mark.e2e


def test_the_engineer_acknowledges_from_the_link_in_their_page(browser, live_app, live_server):
    with live_app.app_context():
        alert = db.session.scalars(
            select(Alert).where(Alert.status == AlertStatus.OPEN).order_by(Alert.id)
        ).first()
        assert alert is not None, "the demo data opens an alert"
        link = alerts.action_url(alert, find_by_email("agent1@floa.example"), "ack")
        alert_id = alert.id
    assert link.startswith(live_server)

    phone = browser.new_context(
        locale="fr-FR", viewport={"width": 390, "height": 844}, is_mobile=True
    )
    try:
        page = phone.new_page()
        page.goto(link)
        button = page.get_by_role("button", name="Acquitter : je m'en occupe")
        assert button.is_visible()
        assert "En tant que Claire Dubois" in page.content()
        with live_app.app_context():  # a mail scanner opening the link acknowledges nothing
            assert db.session.get(Alert, alert_id).status is AlertStatus.OPEN
        button.click()
        page.wait_for_load_state()
        assert "Alerte acquittée : l'escalade est arrêtée." in page.inner_text("body")
        page.reload()  # and a second visit says so instead of offering the button again
        assert "Acquittée : l'escalade est arrêtée." in page.inner_text("body")
    finally:
        phone.close()
    with live_app.app_context():
        acknowledged = db.session.get(Alert, alert_id)
        assert acknowledged.status is AlertStatus.ACKNOWLEDGED
        assert acknowledged.acknowledged_by.email == "agent1@floa.example"
