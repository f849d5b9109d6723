"""In Chromium: hostile ticket subjects and bodies, an HTML mail, file names and knowledge-base
content are shown to merchants, agents and admins, and no script runs. The escaping is what
stops them; the Content-Security-Policy is the second wall, so a policy violation fails too
(it would mean the escaping let something through)."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from supportit.db import db
from supportit.intake import pipeline
from supportit.models import Article, Category, User
from supportit.services import kb, tickets
from supportit.services.attachments import Upload
from tests.e2e.live import log_in

pytestmark = pytest.mark.e2e

PAYLOADS = [
    "<script>alert('subject')</script>",
    '"><img src=x onerror=alert(1)>',
    "<svg onload=alert(2)>",
    "javascript:alert(3)",
    "<iframe src=javascript:alert(4)></iframe>",
    "{{ 7*7 }} ${alert(5)}",
    '<a href="javascript:alert(6)">clic</a>',
]
HOSTILE = " ".join(PAYLOADS)


def _hostile_world(app) -> tuple[str, int]:  # type: ignore[no-untyped-def]
    with app.app_context():
        alice = db.session.query(User).filter_by(email="alice@maliterie.example").one()
        ticket = tickets.open_ticket(
            alice.merchant,
            alice,
            tickets.NewTicket(
                subject=f"XSS {PAYLOADS[0]}{PAYLOADS[1]}",
                category=Category.INTEGRATION,
                body=HOSTILE,
                ref_nr='"><script>alert(7)</script>',
                uploads=[Upload('"><svg onload=alert(8)>.html', b"<script>alert(9)</script>")],
            ),
        )
        mail = EmailMessage()
        mail["From"] = "alice@maliterie.example"
        mail["To"] = "support-it-floapay@floa.com"
        mail["Subject"] = f"Re: [{ticket.reference}] {PAYLOADS[2]}"
        mail.set_content("texte")
        mail.add_alternative(
            "<html><body><p>Bonjour</p><script>alert(10)</script>"
            "<img src=x onerror=alert(11)><a href='javascript:alert(12)'>lien</a>"
            "<svg><animate onbegin=alert(13) attributeName=x dur=1s></svg>"
            "<iframe srcdoc='<script>alert(14)</script>'></iframe>"
            "<form action=javascript:alert(15)><button>go</button></form></body></html>",
            subtype="html",
        )
        pipeline.ingest(mail.as_bytes(), channel="eml")
        article = db.session.query(Article).filter_by(slug="mac-hmac").one()
        data = kb.parse(kb.to_markdown(article))
        data.title_fr = f"MAC {PAYLOADS[0]}"
        data.summary_fr = PAYLOADS[1]
        data.body_fr = f"{HOSTILE}\n\n[clic](javascript:alert(16)) <script>alert(17)</script>"
        admin = db.session.query(User).filter_by(email="admin@floa.example").one()
        kb.save(article, data, admin)
        return ticket.reference, ticket.attachments[0].id


def _watch(page) -> tuple[list[str], list[str]]:  # type: ignore[no-untyped-def]
    """Alerts that opened, and what the Content-Security-Policy had to block."""
    dialogs: list[str] = []
    violations: list[str] = []

    def on_dialog(dialog) -> None:  # type: ignore[no-untyped-def]
        dialogs.append(dialog.message)
        dialog.dismiss()

    def on_console(message) -> None:  # type: ignore[no-untyped-def]
        if "Content Security Policy" in message.text:
            violations.append(message.text)

    page.on("dialog", on_dialog)
    page.on("console", on_console)
    return dialogs, violations


def test_no_script_runs_anywhere_hostile_content_is_shown(live_app, live_server, new_page):
    reference, _ = _hostile_world(live_app)
    pages = {
        ("alice@maliterie.example", "demo-alice"): [
            "/portal/",
            f"/portal/tickets/{reference}",
            "/help/mac-hmac",
            "/help/?q=MAC",
        ],
        ("agent1@floa.example", "demo-agent"): [
            "/queue/",
            f"/queue/tickets/{reference}",
            f"/queue/tickets/{reference}?kb=MAC",
        ],
        ("admin@floa.example", "demo-admin"): ["/admin/kb", "/admin/audit", "/queue/kpis"],
    }
    for (email, password), urls in pages.items():
        page = new_page()
        dialogs, violations = _watch(page)
        log_in(page, live_server, email, password)
        for url in urls:
            page.goto(live_server + url)
            page.wait_for_load_state("load")
            if url.startswith("/queue/tickets/"):  # its panels come in a second request
                page.locator("#kb-panel").wait_for()
            page.wait_for_timeout(150)  # an onload/onbegin handler would have fired by now
            assert dialogs == [], (url, dialogs)
            assert violations == [], (url, violations)
        # The hostile text is shown as text, not dropped: the merchant sees what they wrote.
        if email.startswith("alice"):
            page.goto(f"{live_server}/portal/tickets/{reference}")
            assert "<script>alert('subject')</script>" in page.inner_text("body")
