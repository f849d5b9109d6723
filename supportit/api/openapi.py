"""The OpenAPI 3.1 description of `/api/v1`, served at `/api/v1/openapi.json`.

Written by hand next to the views; `tests/test_api.py` checks that every route is described,
that nothing described is missing, and that real answers match the schemas.
"""

from __future__ import annotations

from typing import Any

from supportit.models import Category, Environment, Priority, Product, Status

NULLABLE_STRING = {"type": ["string", "null"]}
NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _enum(enum_class) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return {"type": "string", "enum": [member.value for member in enum_class]}


def _object(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
    }


SCHEMAS: dict[str, Any] = {
    "Error": _object(
        {
            "error": _object(
                {
                    "code": {"type": "string", "description": "stable, for scripts"},
                    "message": {"type": "string"},
                    "field": {"type": "string"},
                },
                ["code", "message"],
            )
        }
    ),
    "Ticket": _object(
        {
            "reference": {"type": "string", "examples": ["FLOA-000042"]},
            "subject": {"type": "string"},
            "status": _enum(Status),
            "category": _enum(Category),
            "priority": _enum(Priority),
            "merchant": NULLABLE_STRING,
            "created_at": {"type": "string", "format": "date-time"},
            "updated_at": {"type": "string", "format": "date-time"},
            "version": {"type": "integer", "description": "send it back to detect a conflict"},
        }
    ),
    "TicketDetail": {
        "allOf": [
            _ref("Ticket"),
            _object(
                {
                    "environment": {"type": ["string", "null"]},
                    "product": {"type": ["string", "null"]},
                    "ref_nr": NULLABLE_STRING,
                    "trans_id": NULLABLE_STRING,
                    "pay_id": NULLABLE_STRING,
                    "first_response_at": NULLABLE_TIME,
                    "resolved_at": NULLABLE_TIME,
                    "closed_at": NULLABLE_TIME,
                    "merged_into": {
                        "type": ["string", "null"],
                        "description": "a duplicate's survivor: its messages are there",
                    },
                }
            ),
        ]
    },
    "NewTicket": _object(
        {
            "subject": {"type": "string", "maxLength": 200},
            "body": {"type": "string"},
            "category": {
                **_enum(Category),
                "description": "omitted: the classifier chooses the queue",
            },
            "priority": _enum(Priority),
            "environment": _enum(Environment),
            "product": _enum(Product),
            "ref_nr": {"type": "string"},
            "trans_id": {"type": "string"},
            "pay_id": {"type": "string"},
            "merchant_id": {"type": "integer", "description": "staff tokens only, required"},
            "requester_email": {"type": "string", "description": "staff tokens only"},
        },
        ["subject", "body"],
    ),
    "Attachment": _object(
        {
            "id": {"type": "integer"},
            "filename": {"type": "string"},
            "content_type": {"type": "string"},
            "size": {"type": "integer"},
            "url": {"type": "string"},
        }
    ),
    "Message": _object(
        {
            "id": {"type": "integer"},
            "author": NULLABLE_STRING,
            "from_support": {"type": "boolean"},
            "internal": {"type": "boolean"},
            "source": {"type": "string"},
            "body": {"type": "string"},
            "created_at": {"type": "string", "format": "date-time"},
            "attachments": {"type": "array", "items": _ref("Attachment")},
        }
    ),
    "NewMessage": _object(
        {
            "body": {"type": "string"},
            "internal": {"type": "boolean", "description": "an internal note (staff only)"},
            "version": {"type": "integer"},
        },
        ["body"],
    ),
    "StatusChange": _object(
        {
            "status": {
                **_enum(Status),
                "description": "merchants: closed or open; staff: any",
            },
            "version": {"type": "integer"},
        },
        ["status"],
    ),
    "Merchant": _object(
        {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "country": NULLABLE_STRING,
            "language": NULLABLE_STRING,
            "environment": NULLABLE_STRING,
            "products": {"type": "array", "items": {"type": "string"}},
        }
    ),
    "Monitor": _object(
        {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "kind": {"type": "string"},
            "service": {"type": "string"},
            "state": NULLABLE_STRING,
            "paused": {"type": "boolean"},
            "last_checked_at": NULLABLE_TIME,
        }
    ),
    "Incident": _object(
        {
            "id": {"type": "integer"},
            "title": {"type": "string"},
            "status": {"type": "string"},
            "worst": {"type": "string"},
            "monitor": {"type": "string"},
            "opened_at": {"type": "string", "format": "date-time"},
            "resolved_at": NULLABLE_TIME,
        }
    ),
    "Shift": _object(
        {
            "layer": {"type": "integer", "description": "1 primary, 2 secondary"},
            "rotation": {"type": "string"},
            "name": NULLABLE_STRING,
            "email": NULLABLE_STRING,
            "starts_at": {"type": "string", "format": "date-time"},
            "ends_at": {"type": "string", "format": "date-time"},
            "override": {"type": "boolean"},
        }
    ),
    "Article": _object(
        {
            "slug": {"type": "string"},
            "category": {"type": "string"},
            "title": {"type": "string"},
            "summary": {"type": "string"},
            "url": {"type": "string"},
            "docs": {
                "type": "array",
                "items": _object({"url": {"type": "string"}, "title": {"type": "string"}}),
            },
        }
    ),
    "Me": _object(
        {
            "id": {"type": "integer"},
            "email": {"type": "string"},
            "name": {"type": "string"},
            "role": {"type": "string"},
            "merchant": NULLABLE_STRING,
            "scopes": {"type": "array", "items": {"type": "string"}},
        }
    ),
}


def _list(item: str, paged: bool) -> dict[str, Any]:
    properties: dict[str, Any] = {"data": {"type": "array", "items": _ref(item)}}
    if paged:
        properties["next_cursor"] = {
            "type": ["string", "null"],
            "description": "pass as cursor for the next page; null on the last",
        }
    return _object(properties)


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERRORS = {
    "400": _json(_ref("Error"), "bad parameter or body"),
    "401": _json(_ref("Error"), "no token, or an unknown or revoked one"),
    "403": _json(_ref("Error"), "the token lacks the scope"),
    "404": _json(_ref("Error"), "not found, or not yours"),
    "429": _json(_ref("Error"), "rate limit reached"),
}
PAGE_PARAMETERS = [
    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100}},
    {"name": "cursor", "in": "query", "schema": {"type": "string"}},
]
REFERENCE = {"name": "reference", "in": "path", "required": True, "schema": {"type": "string"}}


def _operation(
    summary: str,
    scope: str | None,
    response: dict[str, Any],
    *,
    status: str = "200",
    parameters: list[dict[str, Any]] | None = None,
    body: str | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": summary,
        "responses": {status: response, **ERRORS, **(extra or {})},
    }
    if scope:
        operation["description"] = f"Scope: `{scope}`."
    if parameters:
        operation["parameters"] = parameters
    if body:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _ref(body)}},
        }
    return operation


def document() -> dict[str, Any]:
    conflict = {"409": _json(_ref("Error"), "the ticket changed meanwhile (version)")}
    invalid = {"422": _json(_ref("Error"), "a field is missing or invalid")}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "SupportIT API",
            "version": "1",
            "description": (
                "FLOA Pay partner support: tickets, messages, the knowledge base, and for staff "
                "merchants, monitors and on-call. Authenticate with a token created under "
                "API tokens: `Authorization: Bearer sit_…`. A merchant's token only ever "
                "sees that merchant's tickets; anything else answers 404."
            ),
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": SCHEMAS,
        },
        "paths": {
            "/me": {"get": _operation("The token's user and scopes", None, _json(_ref("Me")))},
            "/tickets": {
                "get": _operation(
                    "Tickets, newest first",
                    "tickets:read",
                    _json(_list("Ticket", paged=True)),
                    parameters=[
                        *PAGE_PARAMETERS,
                        {"name": "status", "in": "query", "schema": _enum(Status)},
                        {"name": "category", "in": "query", "schema": _enum(Category)},
                    ],
                ),
                "post": _operation(
                    "Open a ticket",
                    "tickets:write",
                    _json(_ref("TicketDetail"), "created"),
                    status="201",
                    body="NewTicket",
                    extra=invalid,
                ),
            },
            "/tickets/{reference}": {
                "get": _operation(
                    "One ticket",
                    "tickets:read",
                    _json(_ref("TicketDetail")),
                    parameters=[REFERENCE],
                )
            },
            "/tickets/{reference}/messages": {
                "get": _operation(
                    "The conversation (internal notes for staff only)",
                    "tickets:read",
                    _json(_list("Message", paged=False)),
                    parameters=[REFERENCE],
                ),
                "post": _operation(
                    "Reply (JSON, or multipart with `files`)",
                    "tickets:write",
                    _json(_ref("Message"), "created"),
                    status="201",
                    parameters=[REFERENCE],
                    body="NewMessage",
                    extra={**conflict, **invalid},
                ),
            },
            "/tickets/{reference}/status": {
                "post": _operation(
                    "Change the status",
                    "tickets:write",
                    _json(_ref("TicketDetail")),
                    parameters=[REFERENCE],
                    body="StatusChange",
                    extra={**conflict, **invalid},
                )
            },
            "/tickets/{reference}/attachments/{attachment_id}": {
                "get": _operation(
                    "Download an attachment",
                    "tickets:read",
                    {
                        "description": "the file, as a download",
                        "content": {"application/octet-stream": {}},
                    },
                    parameters=[
                        REFERENCE,
                        {
                            "name": "attachment_id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "integer"},
                        },
                    ],
                )
            },
            "/merchants": {
                "get": _operation(
                    "Merchants (staff)",
                    "merchants:read",
                    _json(_list("Merchant", paged=True)),
                    parameters=PAGE_PARAMETERS,
                )
            },
            "/monitors": {
                "get": _operation(
                    "Monitors and their state (staff)",
                    "monitors:read",
                    _json(_list("Monitor", paged=True)),
                    parameters=PAGE_PARAMETERS,
                )
            },
            "/incidents": {
                "get": _operation(
                    "Incidents, newest first (staff)",
                    "monitors:read",
                    _json(_list("Incident", paged=True)),
                    parameters=[
                        *PAGE_PARAMETERS,
                        {"name": "open", "in": "query", "schema": {"type": "string"}},
                    ],
                )
            },
            "/oncall": {
                "get": _operation(
                    "Who is on call now, primary first (staff)",
                    "oncall:read",
                    _json(_list("Shift", paged=False)),
                )
            },
            "/kb/search": {
                "get": _operation(
                    "Search the knowledge base",
                    "kb:read",
                    _json(_list("Article", paged=False)),
                    parameters=[
                        {
                            "name": "q",
                            "in": "query",
                            "required": True,
                            "schema": {"type": "string"},
                        },
                        {"name": "lang", "in": "query", "schema": {"enum": ["fr", "en"]}},
                        {"name": "limit", "in": "query", "schema": {"type": "integer"}},
                    ],
                )
            },
            "/openapi.json": {
                "get": {
                    "summary": "This document",
                    "security": [],
                    "responses": {"200": {"description": "OpenAPI 3.1"}},
                }
            },
        },
    }
