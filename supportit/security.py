"""HTTP response headers that make the browser enforce what the pages already do.

Every page's script is a file served by us (no inline script, no `on…` attribute), so the
Content-Security-Policy allows scripts from our origin only: an injected `<script>` or
`javascript:` link does not run even if a bug let one through the escaping. Styles keep
'unsafe-inline' for the `style` attributes of progress bars and sticky panels, which cannot
run code.
"""

from __future__ import annotations

import time

from flask import Flask, Response, flash, redirect, request, session, url_for
from flask_login import current_user, logout_user

from supportit.i18n import gettext as _

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def init_app(app: Flask) -> None:
    @app.before_request
    def _idle_timeout():  # type: ignore[no-untyped-def]
        """A session left unused for SESSION_IDLE_MINUTES ends (remember-me included)."""
        if request.endpoint == "static" or not current_user.is_authenticated:
            return None
        now = int(time.time())
        seen = session.get("seen")
        idle = app.config["SESSION_IDLE_MINUTES"] * 60
        if isinstance(seen, int) and now - seen > idle:
            logout_user()
            session.clear()
            flash(
                _(
                    "Your session ended after %(n)d minutes without activity. Please log in again.",
                    n=app.config["SESSION_IDLE_MINUTES"],
                ),
                "info",
            )
            return redirect(url_for("auth.login", next=request.full_path))
        if not isinstance(seen, int) or now - seen >= 30:  # not a new cookie on every request
            session["seen"] = now
        return None

    @app.after_request
    def _headers(response: Response) -> Response:
        headers = response.headers
        # setdefault: a download keeps its stricter sandbox policy (web/files.py).
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if app.config.get("SESSION_COOKIE_SECURE"):  # served over HTTPS
            headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response
