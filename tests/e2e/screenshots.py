"""Screenshots of the main pages with the demo data, for docs/screenshots/ (`make screenshots`)."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from supportit import create_app
from supportit.db import db
from supportit.intake import pipeline
from supportit.services import demo
from tests.e2e.live import chromium, log_in, serve

PAGES = [
    ("login", None, "/login"),
    ("portal-tickets", ("alice@maliterie.example", "demo-alice"), "/portal/"),
    ("portal-new-ticket", ("alice@maliterie.example", "demo-alice"), "/portal/tickets/new"),
    ("portal-ticket", ("bob@voyages-soleil.example", "demo-bob"), "/portal/tickets/FLOA-000007"),
    ("queue", ("agent2@floa.example", "demo-agent"), "/queue/"),
    ("queue-ticket", ("agent2@floa.example", "demo-agent"), "/queue/tickets/FLOA-000007"),
    ("queue-ticket-mail", ("agent1@floa.example", "demo-agent"), "/queue/tickets/FLOA-000001"),
    ("queue-ticket-canned", ("agent1@floa.example", "demo-agent"), "/queue/tickets/FLOA-000001"),
    ("canned-replies", ("agent1@floa.example", "demo-agent"), "/queue/replies/"),
    ("canned-reply", ("agent1@floa.example", "demo-agent"), "/queue/replies/2"),
    ("queue-quarantine", ("agent1@floa.example", "demo-agent"), "/queue/mail/"),
    ("alerts", ("agent1@floa.example", "demo-agent"), "/queue/alerts/"),
    ("alert", ("agent1@floa.example", "demo-agent"), "/queue/alerts/1"),
    ("oncall", ("agent1@floa.example", "demo-agent"), "/queue/oncall"),
    ("oncall-contacts", ("agent1@floa.example", "demo-agent"), "/queue/oncall/contacts"),
    ("admin-sla", ("admin@floa.example", "demo-admin"), "/admin/sla"),
    ("admin-calendar", ("admin@floa.example", "demo-admin"), "/admin/calendar"),
    ("admin-oncall", ("admin@floa.example", "demo-admin"), "/admin/oncall"),
    ("admin-rotation", ("admin@floa.example", "demo-admin"), "/admin/oncall/rotations/1"),
    ("admin-escalation", ("admin@floa.example", "demo-admin"), "/admin/escalation"),
    ("admin-paygate", ("admin@floa.example", "demo-admin"), "/admin/paygate"),
    ("paygate-inspect", ("agent1@floa.example", "demo-agent"), "/queue/paygate/inspect"),
    (
        "paygate-notifications",
        ("agent1@floa.example", "demo-agent"),
        "/queue/paygate/notifications",
    ),
    (
        "queue-ticket-transactions",
        ("agent1@floa.example", "demo-agent"),
        "/queue/tickets/FLOA-000002",
    ),
    ("supervision", ("agent1@floa.example", "demo-agent"), "/queue/supervision/"),
    ("supervision-monitor", ("agent1@floa.example", "demo-agent"), "/queue/supervision/2"),
    ("supervision-incident", ("agent1@floa.example", "demo-agent"), "/queue/incidents/1"),
    ("status", None, "/status"),
    ("admin-monitors", ("admin@floa.example", "demo-admin"), "/admin/monitors"),
    ("admin-monitor", ("admin@floa.example", "demo-admin"), "/admin/monitors/5"),
    ("admin-maintenance", ("admin@floa.example", "demo-admin"), "/admin/maintenance"),
    ("onboardings", ("agent1@floa.example", "demo-agent"), "/queue/onboardings/"),
    ("onboarding", ("agent1@floa.example", "demo-agent"), "/queue/onboardings/2"),
    ("portal-onboarding", ("bob@voyages-soleil.example", "demo-bob"), "/portal/onboarding"),
    ("kpis", ("agent1@floa.example", "demo-agent"), "/queue/kpis"),
    ("help", None, "/help/"),
    ("help-search", ("alice@maliterie.example", "demo-alice"), "/help/?q=notifications"),
    ("help-article", ("alice@maliterie.example", "demo-alice"), "/help/mac-hmac"),
    ("admin-kb", ("admin@floa.example", "demo-admin"), "/admin/kb"),
    ("api-tokens", ("agent1@floa.example", "demo-agent"), "/account/tokens"),
    ("second-factor", ("agent1@floa.example", "demo-agent"), "/account/security"),
    ("admin-audit", ("admin@floa.example", "demo-admin"), "/admin/audit"),
    ("admin-classifier", ("admin@floa.example", "demo-admin"), "/admin/classifier"),
    ("forgot-password", None, "/password/forgot"),
    (
        "portal-new-ticket-answered",
        ("alice@maliterie.example", "demo-alice"),
        "/portal/tickets/new",
    ),
]
SEED_REQUEST = (
    Path(__file__).resolve().parent.parent / "fixtures" / "paygate" / "seed001_request.txt"
)


def _after_load(name: str, page) -> None:  # type: ignore[no-untyped-def]
    """Pages that show something only once used: the inspector with seed 001's example."""
    if page.locator("#ticket-context").count():  # a ticket's panels come after the page
        page.locator("#kb-panel").wait_for()
    if page.locator("[data-saved-count]").count():  # so do the saved views' counts
        page.locator("[data-saved-count]").first.wait_for(state="visible")
    if name == "paygate-inspect":
        page.get_by_test_id("paste").fill(SEED_REQUEST.read_text())
        page.locator("button[name=inspect]").click()
        page.wait_for_load_state()
    if name == "queue-ticket-canned":  # a canned reply opened, as it will be sent
        page.get_by_test_id("canned-panel").locator("summary").first.click()
    if name == "portal-new-ticket-answered":  # articles suggested while the merchant types
        page.locator("#subject").fill("Nos notifications URLNotify ne sont plus reçues")
        page.get_by_test_id("suggestions").wait_for()


MAIL_FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "mail"


def main(out_dir: str) -> None:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {
                "INSTANCE_PATH": tmp,
                "SECRET_KEY": "screenshots-only-secret-key",
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/shots.db",
            }
        )
        with app.app_context():
            db.create_all()
            demo.load()
            # An Outlook reply by mail to FLOA-000001, and a mail that goes to quarantine.
            for name in ("03_outlook_reply_fr_no_headers", "32_missing_from"):
                pipeline.ingest((MAIL_FIXTURES / f"{name}.eml").read_bytes(), channel="eml")
        with serve(app) as base, chromium() as browser:
            for lang in ("fr", "en"):
                for name, account, path in PAGES:
                    context = browser.new_context(
                        viewport={"width": 1360, "height": 900}, locale=lang
                    )
                    page = context.new_page()
                    if account:
                        log_in(page, base, *account)
                    page.goto(base + path)
                    if lang == "en":  # the demo users prefer French: switch as a person would
                        page.get_by_role("button", name="EN", exact=True).click()
                        page.wait_for_load_state()
                    _after_load(name, page)
                    page.screenshot(path=str(out / f"{name}.{lang}.png"), full_page=True)
                    context.close()
    print(f"screenshots written to {out}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots")
