"""Security headers on every response, and pages that keep working under them: no inline
script and no event-handler attribute anywhere (the CSP would block them)."""

from __future__ import annotations

import re

from supportit.services import kb
from supportit.services.attachments import Upload
from tests import factories
from tests.conftest import login

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\ssrc=)[^>]*>", re.IGNORECASE)
HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)


def _check_page(response) -> str:  # type: ignore[no-untyped-def]
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    script_src = next(p for p in policy.split(";") if p.strip().startswith("script-src"))
    assert "unsafe-inline" not in script_src and "unsafe-eval" not in script_src
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    page = response.get_data(as_text=True)
    assert not INLINE_SCRIPT.search(page), INLINE_SCRIPT.search(page).group(0)
    assert not HANDLER.search(page), HANDLER.search(page).group(0)
    return page


def test_every_page_carries_the_headers_and_no_inline_script(app, client, world) -> None:
    from pathlib import Path

    from supportit import PROJECT_ROOT

    kb.sync(Path(PROJECT_ROOT) / "kb")
    ticket = factories.ticket(world.alice, "Erreur 21000005")
    for url in ("/login", "/help/", "/help/mac-hmac", "/status"):
        _check_page(client.get(url))
    login(client, world.alice)
    for url in ("/portal/", "/portal/tickets/new", f"/portal/tickets/{ticket.reference}"):
        _check_page(client.get(url))
    staff = client.application.test_client()
    login(staff, world.admin)
    for url in (
        "/queue/",
        f"/queue/tickets/{ticket.reference}",
        "/queue/kpis",
        "/queue/onboardings/",
        "/queue/supervision/",
        "/queue/paygate/inspect",
        "/admin/kb",
        "/admin/classifier",
        "/admin/monitors",
    ):
        response = staff.get(url)
        assert response.status_code == 200, url
        _check_page(response)


def test_downloads_keep_their_sandbox_policy(app, client, world) -> None:
    ticket = factories.ticket(
        world.alice, "Capture", uploads=[Upload("page.html", b"<script>alert(1)</script>")]
    )
    login(client, world.alice)
    response = client.get(
        f"/portal/tickets/{ticket.reference}/attachments/{ticket.attachments[0].id}"
    )
    assert response.headers["Content-Security-Policy"] == "sandbox; default-src 'none'"
    assert response.headers["Content-Disposition"].startswith("attachment;")


def test_https_deployments_get_strict_transport_security(app, client) -> None:
    assert "Strict-Transport-Security" not in client.get("/login").headers
    app.config["SESSION_COOKIE_SECURE"] = True
    assert client.get("/login").headers["Strict-Transport-Security"] == "max-age=31536000"


def test_an_idle_session_ends_and_asks_to_log_in_again(app, client, world) -> None:
    from datetime import timedelta

    import time_machine

    from supportit.db import utcnow

    app.config["SESSION_IDLE_MINUTES"] = 120
    login(client, world.agent)
    assert client.get("/queue/").status_code == 200
    with time_machine.travel(utcnow() + timedelta(minutes=100), tick=False):
        assert client.get("/queue/").status_code == 200  # within the 120 minutes
    with time_machine.travel(utcnow() + timedelta(minutes=100 + 121), tick=False):
        expired = client.get("/queue/")
        assert expired.status_code == 302 and "/login" in expired.headers["Location"]
        page = client.get(expired.headers["Location"]).get_data(as_text=True)
        assert "sans activit" in page
        assert client.get("/queue/").status_code == 302  # logged out for good
