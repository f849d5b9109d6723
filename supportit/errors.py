"""Error pages: a clear, translated message and the right status; never a stack trace."""

from __future__ import annotations

import logging

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException, InternalServerError

from supportit.i18n import lazy_gettext as _l

log = logging.getLogger(__name__)

MESSAGES = {
    400: (_l("Bad request"), _l("The request could not be understood. Please check the form.")),
    403: (_l("Access denied"), _l("You do not have access to this page.")),
    404: (_l("Page not found"), _l("This page does not exist, or you do not have access to it.")),
    405: (_l("Not allowed"), _l("This action cannot be done this way.")),
    409: (
        _l("Changed meanwhile"),
        _l(
            "Someone else changed this at the same moment, and nothing of yours was saved. "
            "Go back, reload the page and try again."
        ),
    ),
    413: (
        _l("Files too large"),
        _l("The files you sent are too large. Nothing was saved: please send smaller files."),
    ),
    500: (
        _l("Something went wrong"),
        _l("An unexpected error occurred and nothing was changed. Please try again in a moment."),
    ),
}


def render_error(code: int, message: object = None):
    title, default_message = MESSAGES.get(code, MESSAGES[500])
    return (
        render_template(
            "errors/error.html", code=code, title=title, message=message or default_message
        ),
        code,
    )


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        return render_error(
            400,
            _l(
                "Your session has expired or the form was sent incomplete. "
                "Nothing was saved: go back, reload the page and try again."
            ),
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code is None or error.code < 400:
            return error
        if request.path.startswith("/api/"):  # routing errors never reach the API blueprint
            from supportit.api.errors import from_http

            return from_http(error)
        return render_error(error.code if error.code in MESSAGES else 400)

    @app.errorhandler(StaleDataError)
    def concurrent_change(error: StaleDataError):
        # Two requests wrote the same row at once (its version moved): the later one loses,
        # cleanly, instead of a server error.
        from supportit.db import db

        db.session.rollback()
        if request.path.startswith("/api/"):
            from supportit.api.errors import error_response

            return error_response(409, "conflict", "Changed by another request: try again.")
        return render_error(409)

    @app.errorhandler(InternalServerError)
    def server_error(error: InternalServerError):
        log.exception("unhandled error", exc_info=error.original_exception)
        if request.path.startswith("/api/"):
            from supportit.api.errors import error_response

            return error_response(500, None, "Unexpected error; nothing was changed.")
        return render_error(500)
