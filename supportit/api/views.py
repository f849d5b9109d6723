"""`/api/v1` endpoints. Each checks its token's scope; what the token's user may see is decided
by the same access rules as the pages (a merchant's token gets 404 for another's ticket)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from flask import Blueprint, current_app, g, jsonify, request, url_for
from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException, NotFound

from supportit.api import serializers as out
from supportit.api.errors import ApiError, error_response, from_http
from supportit.db import db
from supportit.extensions import csrf, limiter
from supportit.models import (
    Category,
    Environment,
    Incident,
    IncidentStatus,
    Merchant,
    Monitor,
    Priority,
    Product,
    Status,
    Ticket,
    User,
)
from supportit.services import api_tokens, kb, oncall, tickets
from supportit.services.attachments import Upload
from supportit.services.errors import ServiceError, StaleTicket
from supportit.web.access import get_attachment_for, get_ticket_for
from supportit.web.files import send_attachment

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # no cookies here: a bearer token cannot be sent by another site's form

P = ParamSpec("P")
R = TypeVar("R")
PUBLIC = {"api.openapi"}
MAX_PAGE = 100


def _rate_key() -> str:
    header = request.headers.get("Authorization", "")
    return header[7:17] if header.startswith("Bearer ") else (request.remote_addr or "?")


limiter.limit(lambda: current_app.config["API_RATE_LIMIT"], key_func=_rate_key)(bp)


@bp.before_request
def _authenticate():  # type: ignore[no-untyped-def]
    if request.endpoint in PUBLIC:
        return None
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return error_response(401, None, "Send an API token: Authorization: Bearer sit_…")
    token = api_tokens.authenticate(header[7:].strip())
    if token is None:
        return error_response(401, "invalid_token", "This token is unknown or revoked.")
    g.api_token, g.api_user = token, token.user
    return None


@bp.errorhandler(ApiError)
def _api_error(error: ApiError):  # type: ignore[no-untyped-def]
    return error_response(error.status, error.code, error.message, error.field)


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException):  # type: ignore[no-untyped-def]
    return from_http(error)


def requires(scope: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    def decorate(view: Callable[P, R]) -> Callable[P, R]:
        @wraps(view)
        def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
            if scope not in g.api_token.scopes:
                raise ApiError(403, "missing_scope", f"This token lacks the {scope} scope.")
            # Staff scopes on a token whose user is no longer staff give nothing.
            if scope not in api_tokens.allowed_scopes(g.api_user):
                raise ApiError(404, "not_found", "Not found.")
            return view(*args, **kwargs)

        return wrapped

    return decorate


def _user() -> User:
    return g.api_user


def _json_body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_json", "The body must be a JSON object.")
    return data


def _string(data: dict[str, Any], name: str, *, required: bool = False) -> str | None:
    value = data.get(name)
    if value is None or value == "":
        if required:
            raise ApiError(422, "missing_field", f"{name} is required.", name)
        return None
    if not isinstance(value, str):
        raise ApiError(422, "invalid_field", f"{name} must be a string.", name)
    return value


def _enum(enum_class, data: dict[str, Any], name: str, *, required: bool = False):  # type: ignore[no-untyped-def]
    value = _string(data, name, required=required)
    if value is None:
        return None
    try:
        return enum_class(value)
    except ValueError:
        allowed = ", ".join(member.value for member in enum_class)
        raise ApiError(422, "invalid_field", f"{name} must be one of: {allowed}.", name) from None


def _with_retries(ticket: Ticket, version: int | None, change):  # type: ignore[no-untyped-def]
    """Apply `change(ticket)`. Without a version from the client, a concurrent change to the
    ticket (an agent's status, say) is not its concern: reload and apply again."""
    reference = ticket.reference
    for attempt in range(3):
        if attempt:
            ticket = _ticket(reference)
        try:
            return ticket, change(ticket)
        except (StaleTicket, StaleDataError):  # the latter when a query flushed the ticket
            db.session.rollback()
            if version is not None or attempt == 2:
                raise
            db.session.expire_all()
    raise AssertionError("unreachable")


def _version(data: dict[str, Any]) -> int | None:
    """The ticket version the client last saw: a concurrent change then answers 409."""
    version = data.get("version")
    return version if isinstance(version, int) and not isinstance(version, bool) else None


def _service_error(error: ServiceError) -> ApiError:
    # Messages in English for scripts, whatever the token user's language.
    with force_locale("en"):
        message = str(error.message)
    if isinstance(error, StaleTicket):
        return ApiError(409, "conflict", message, error.field)
    return ApiError(422, "invalid", message, error.field)


def _page(statement, key_column) -> tuple[list[Any], str | None]:  # type: ignore[no-untyped-def]
    """Keyset pagination, newest first: `cursor` is the last id seen, opaque to clients."""
    try:
        limit = int(request.args.get("limit", 25))
    except ValueError:
        raise ApiError(400, "invalid_parameter", "limit must be a number.", "limit") from None
    if not 1 <= limit <= MAX_PAGE:
        raise ApiError(400, "invalid_parameter", f"limit is 1 to {MAX_PAGE}.", "limit")
    cursor = request.args.get("cursor")
    if cursor:
        try:
            last = int(base64.urlsafe_b64decode(cursor.encode() + b"==").decode())
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise ApiError(400, "invalid_parameter", "cursor is not valid.", "cursor") from None
        statement = statement.where(key_column < last)
    rows = list(db.session.scalars(statement.order_by(key_column.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = (
        base64.urlsafe_b64encode(str(rows[-1].id).encode()).decode().rstrip("=") if more else None
    )
    return rows, next_cursor


def _ticket(reference: str) -> Ticket:
    try:
        return get_ticket_for(_user(), reference)
    except NotFound:
        raise ApiError(404, "not_found", "No such ticket.") from None


# --- who am I --------------------------------------------------------------------------------


@bp.get("/me")
def me():
    user, token = _user(), g.api_token
    return jsonify(
        id=user.id,
        email=user.email,
        name=user.name,
        role=user.role.value,
        merchant=user.merchant.name if user.merchant else None,
        scopes=token.scopes,
    )


# --- tickets ---------------------------------------------------------------------------------


@bp.get("/tickets")
@requires("tickets:read")
def list_tickets():
    user = _user()
    statement = select(Ticket)
    if user.is_merchant:
        statement = statement.where(Ticket.merchant_id == user.merchant_id)
    for name, enum_class, column in (
        ("status", Status, Ticket.status),
        ("category", Category, Ticket.category),
    ):
        if request.args.get(name):
            statement = statement.where(column == _enum(enum_class, request.args, name))
    rows, next_cursor = _page(statement, Ticket.id)
    return jsonify(data=[out.ticket(t) for t in rows], next_cursor=next_cursor)


@bp.post("/tickets")
@requires("tickets:write")
def create_ticket():
    user, data = _user(), _json_body()
    merchant = user.merchant
    if user.is_staff:  # an agent opens a ticket on a merchant's behalf
        merchant_id = data.get("merchant_id")
        merchant = db.session.get(Merchant, merchant_id) if isinstance(merchant_id, int) else None
        if merchant is None:
            raise ApiError(422, "invalid_field", "merchant_id must name a merchant.", "merchant_id")
    try:
        ticket = tickets.open_ticket(
            merchant,
            user if user.is_merchant else None,
            tickets.NewTicket(
                subject=_string(data, "subject", required=True) or "",
                body=_string(data, "body", required=True) or "",
                category=_enum(Category, data, "category") or Category.INTEGRATION,
                category_chosen="category" in data,
                priority=_enum(Priority, data, "priority") or Priority.P3,
                environment=_enum(Environment, data, "environment"),
                product=_enum(Product, data, "product"),
                ref_nr=_string(data, "ref_nr"),
                trans_id=_string(data, "trans_id"),
                pay_id=_string(data, "pay_id"),
                requester_email=None if user.is_merchant else _string(data, "requester_email"),
            ),
        )
    except ServiceError as error:
        db.session.rollback()
        raise _service_error(error) from None
    response = jsonify(out.ticket(ticket, detail=True))
    response.status_code = 201
    response.headers["Location"] = url_for("api.get_ticket", reference=ticket.reference)
    return response


@bp.get("/tickets/<reference>")
@requires("tickets:read")
def get_ticket(reference: str):
    return jsonify(out.ticket(_ticket(reference), detail=True))


@bp.get("/tickets/<reference>/messages")
@requires("tickets:read")
def list_messages(reference: str):
    ticket = _ticket(reference)
    shown = [m for m in ticket.messages if _user().is_staff or not m.internal]
    return jsonify(data=[out.message(m, reference) for m in shown])


@bp.post("/tickets/<reference>/messages")
@requires("tickets:write")
def reply(reference: str):
    ticket = _ticket(reference)  # 404 before the body is read
    user = _user()
    uploads: list[Upload] = []
    if request.mimetype == "multipart/form-data":
        data: dict[str, Any] = dict(request.form)
        uploads = [Upload(f.filename or "", f.read()) for f in request.files.getlist("files")]
        data["internal"] = data.get("internal") in ("true", "1")
    else:
        data = _json_body()
    internal = data.get("internal", False)
    if not isinstance(internal, bool):
        raise ApiError(422, "invalid_field", "internal must be true or false.", "internal")
    body, version = _string(data, "body", required=True) or "", _version(data)
    try:
        _now, message = _with_retries(
            ticket,
            version,
            lambda ticket: tickets.reply(
                ticket,
                user,
                body,
                internal=internal,
                uploads=uploads,
                expected_version=version,
            ),
        )
    except ServiceError as error:
        db.session.rollback()
        raise _service_error(error) from None
    response = jsonify(out.message(message, reference))
    response.status_code = 201
    return response


@bp.post("/tickets/<reference>/status")
@requires("tickets:write")
def change_status(reference: str):
    ticket = _ticket(reference)
    user, data = _user(), _json_body()
    status = _enum(Status, data, "status", required=True)
    version = _version(data)
    if not user.is_staff and status not in (Status.CLOSED, Status.OPEN):
        raise ApiError(
            422, "invalid_field", "A merchant may set status to closed or open.", "status"
        )

    def change(ticket: Ticket) -> None:
        if user.is_staff:
            tickets.update_fields(ticket, user, expected_version=version, status=status)
        elif status is Status.CLOSED:
            tickets.close(ticket, user)
        else:
            tickets.reopen(ticket, user)

    try:
        ticket, _none = _with_retries(ticket, version, change)
    except ServiceError as error:
        db.session.rollback()
        raise _service_error(error) from None
    return jsonify(out.ticket(ticket, detail=True))


@bp.get("/tickets/<reference>/attachments/<int:attachment_id>")
@requires("tickets:read")
def attachment(reference: str, attachment_id: int):
    ticket = _ticket(reference)
    try:
        found = get_attachment_for(_user(), ticket, attachment_id)
    except NotFound:
        raise ApiError(404, "not_found", "No such attachment.") from None
    return send_attachment(found)


# --- merchants, monitors, on-call (staff) ------------------------------------------------------


@bp.get("/merchants")
@requires("merchants:read")
def list_merchants():
    rows, next_cursor = _page(select(Merchant), Merchant.id)
    return jsonify(data=[out.merchant(m) for m in rows], next_cursor=next_cursor)


@bp.get("/monitors")
@requires("monitors:read")
def list_monitors():
    rows, next_cursor = _page(select(Monitor), Monitor.id)
    return jsonify(data=[out.monitor(m) for m in rows], next_cursor=next_cursor)


@bp.get("/incidents")
@requires("monitors:read")
def list_incidents():
    statement = select(Incident)
    if request.args.get("open") == "true":
        statement = statement.where(Incident.status != IncidentStatus.RESOLVED)
    rows, next_cursor = _page(statement, Incident.id)
    return jsonify(data=[out.incident(i) for i in rows], next_cursor=next_cursor)


@bp.get("/oncall")
@requires("oncall:read")
def on_call_now():
    from supportit.db import utcnow

    shifts = oncall.on_call(utcnow())
    return jsonify(data=[out.shift(s) for s in shifts])


# --- knowledge base ----------------------------------------------------------------------------


@bp.get("/kb/search")
@requires("kb:read")
def kb_search():
    query = (request.args.get("q") or "").strip()
    if not query:
        raise ApiError(400, "invalid_parameter", "q is required.", "q")
    language = "en" if request.args.get("lang") == "en" else "fr"
    limit = request.args.get("limit", "10")
    if not limit.isdigit() or not 1 <= int(limit) <= 50:
        raise ApiError(400, "invalid_parameter", "limit is 1 to 50.", "limit")
    found = kb.search(query[:500], limit=int(limit))
    return jsonify(data=[out.article(a, language) for a in found])


@bp.get("/openapi.json")
def openapi():
    from supportit.api.openapi import document

    return jsonify(document())
