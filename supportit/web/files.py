"""Serving stored attachments safely."""

from __future__ import annotations

from flask import Response, abort, send_file

from supportit.models import Attachment
from supportit.services.attachments import storage_path


def send_attachment(attachment: Attachment) -> Response:
    path = storage_path(attachment.sha256)
    if not path.is_file():
        abort(404)
    response = send_file(
        path,
        mimetype=attachment.content_type,
        as_attachment=True,  # never rendered inline: an uploaded HTML file stays a download
        download_name=attachment.filename,
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response.headers["Cache-Control"] = "private, no-store"
    return response
