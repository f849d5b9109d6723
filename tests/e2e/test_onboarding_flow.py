"""In Chromium: an agent takes a new merchant from signature to go-live, with Jira following
along (a local Jira REST server); go-live is refused until the recette and sign-offs are done."""

from __future__ import annotations

import pytest

from supportit.db import db
from supportit.models import Merchant, Onboarding, OnboardingStatus
from supportit.services import jira_sync
from tests.e2e.live import log_in
from tests.jira_server import TOKEN, USER, JiraServer

pytestmark = pytest.mark.e2e


def test_signature_to_go_live_with_jira(live_app, live_server, new_page) -> None:
    jira = JiraServer().start()
    live_app.config.update(JIRA_URL=jira.url, JIRA_USER=USER, JIRA_TOKEN=TOKEN)
    with live_app.app_context():
        db.session.add(Merchant(name="Maison Durand", products=["3X"]))
        db.session.commit()
    try:
        page = new_page()
        log_in(page, live_server, "agent1@floa.example", "demo-agent")
        page.get_by_role("link", name="Intégrations", exact=True).click()
        page.get_by_role("button", name="Démarrer une intégration").click()
        page.get_by_label("Marchand", exact=True).select_option(label="Maison Durand")
        page.get_by_role("button", name="Démarrer", exact=True).click()
        page.wait_for_load_state()
        assert "Intégration de Maison Durand démarrée." in page.inner_text("body")
        onboarding_url = page.url

        with live_app.app_context():  # what the scheduler's jira-push job does every 30 s
            jira_sync.push_pending()  # the demo's onboardings waited for Jira too
            key = (
                db.session.query(Onboarding)
                .join(Merchant)
                .filter(Merchant.name == "Maison Durand")
                .one()
                .jira_key
            )
        page.reload()
        assert key and key in page.inner_text("body")
        assert "Maison Durand" in jira.issues[key]["fields"]["summary"]

        steps = page.get_by_test_id("steps").locator("li")
        for index in range(1, 9):  # every step up to the recette, in order
            step = steps.nth(index)
            step.locator("select[name=status]").select_option("done")
            step.get_by_role("button", name="Enregistrer").click()
            page.wait_for_load_state()
        go_live = page.get_by_test_id("steps").locator("li").nth(9)
        go_live.locator("select[name=status]").select_option("done")
        go_live.get_by_role("button", name="Enregistrer").click()
        page.wait_for_load_state()
        assert "La mise en production attend" in page.inner_text("body")

        for row in range(5):
            line = page.get_by_test_id("recette").locator("form").nth(row)
            line.locator("input[name=reference]").fill(f"MD-TEST-{row}")
            line.locator("select[name=status]").select_option("done")
            line.get_by_role("button", name="Enregistrer").click()
            page.wait_for_load_state()
        for _ in range(5):
            page.get_by_role("button", name="Enregistrer la validation").first.click()
            page.wait_for_load_state()
        go_live = page.get_by_test_id("steps").locator("li").nth(9)
        go_live.locator("select[name=status]").select_option("done")
        go_live.get_by_role("button", name="Enregistrer").click()
        page.wait_for_load_state()
        assert page.url.startswith(onboarding_url)
        assert "en production" in page.locator("h1").inner_text()

        jira.comment(key, "Mise en production confirmée côté Axepta.")
        with live_app.app_context():
            assert jira_sync.pull_updates() >= 1
            onboarding = db.session.query(Onboarding).filter_by(jira_key=key).one()
            assert onboarding.status is OnboardingStatus.LIVE
        page.reload()
        assert (
            "Mise en production confirmée côté Axepta."
            in page.get_by_test_id("history").inner_text()
        )
    finally:
        jira.stop()
