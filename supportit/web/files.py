"""Serving stored attachments safely."""

from __future__ import annotations

from flask import Response, abort, send_file

from supportit.models import Attachment
from supportit.services.attachments import storage_path


def send_attachment(attachment: Attachment) -> Response:
    return send_stored(attachment.sha256, attachment.content_type, attachment.filename)


def send_stored(sha256: str, content_type: str, filename: str) -> Response:
    """A stored file (an attachment, an onboarding's evidence) as a download, never inline."""
    path = storage_path(sha256)
    if not path.is_file():
        abort(404)
    response = send_file(
        path,
        mimetype=content_type,
        as_attachment=True,  # never rendered inline: an uploaded HTML file stays a download
        download_name=filename,
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response.headers["Cache-Control"] = "private, no-store"
    return response
