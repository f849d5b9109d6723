"""JSON errors with stable codes: scripts branch on `code`, people read `message`."""

from __future__ import annotations

from flask import jsonify
from werkzeug.exceptions import HTTPException

# HTTP status → the code a script sees when nothing more precise applies.
CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "rate_limited",
    500: "server_error",
}


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field


def error_response(
    status: int, code: str | None = None, message: str = "", field: str | None = None
):  # type: ignore[no-untyped-def]
    body: dict[str, object] = {"code": code or CODES.get(status, "error"), "message": message}
    if field:
        body["field"] = field
    response = jsonify(error=body)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="supportit"'
    return response


def from_http(error: HTTPException):  # type: ignore[no-untyped-def]
    status = error.code or 500
    return error_response(status, None, error.description or "")
