"""HTTP response headers that make the browser enforce what the pages already do.

Every page's script is a file served by us (no inline script, no `on…` attribute), so the
Content-Security-Policy allows scripts from our origin only: an injected `<script>` or
`javascript:` link does not run even if a bug let one through the escaping. Styles keep
'unsafe-inline' for the `style` attributes of progress bars and sticky panels, which cannot
run code.
"""

from __future__ import annotations

from flask import Flask, Response

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
