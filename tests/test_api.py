"""The JSON API: tokens and scopes, tenant isolation, errors with stable codes, pagination,
rate limits, and an OpenAPI document that describes exactly what is served."""

from __future__ import annotations

import html
import io
import re
import uuid

import jsonschema
import pytest
import redis
from sqlalchemy import func, select

from supportit.db import db
from supportit.models import ApiToken, AuditEvent, Ticket
from supportit.services import api_tokens
from supportit.services.errors import ServiceError
from tests import factories
from tests.conftest import login, make_app

# The Redis of the development machine and of CI; the test is skipped without one.
REDIS_URL = "redis://127.0.0.1:6379/15"


def _auth(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


@pytest.fixture
def alice_token(world) -> str:  # type: ignore[no-untyped-def]
    return api_tokens.create(world.alice, "ERP", ["tickets:read", "tickets:write", "kb:read"])[1]


@pytest.fixture
def agent_token(world) -> str:  # type: ignore[no-untyped-def]
    return api_tokens.create(world.agent, "Ops", list(api_tokens.STAFF_SCOPES))[1]


def _validate(client, response, path: str, method: str = "get", status: str = "200") -> None:  # type: ignore[no-untyped-def]
    """The answer matches the schema the OpenAPI document gives for it."""
    document = client.get("/api/v1/openapi.json").get_json()
    schema = document["paths"][path][method]["responses"][status]["content"]["application/json"][
        "schema"
    ]
    # The document's components ride along, so "#/components/schemas/…" resolves in place.
    jsonschema.validate(response.get_json(), {**schema, "components": document["components"]})


def test_tokens_are_hashed_shown_once_and_revocable(client, world) -> None:
    login(client, world.alice)
    page = client.post("/account/tokens", data={"name": "ERP", "scopes": ["tickets:read"]})
    value = re.search(r"sit_[A-Za-z0-9_-]{40}", page.get_data(as_text=True)).group(0)
    stored = db.session.scalar(select(ApiToken))
    assert stored.token_hash != value and value not in repr(stored.__dict__)
    assert stored.prefix == value[:10] and stored.scopes == ["tickets:read"]
    again = client.get("/account/tokens").get_data(as_text=True)
    assert value not in again and value[:10] in again  # never shown again, but recognisable
    api = client.application.test_client()
    assert api.get("/api/v1/me", headers=_auth(value)).get_json()["email"] == world.alice.email
    client.post(f"/account/tokens/{stored.id}/revoke")
    refused = api.get("/api/v1/me", headers=_auth(value))
    assert refused.status_code == 401 and refused.get_json()["error"]["code"] == "invalid_token"
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"api_token_created", "api_token_revoked"} <= actions


def test_scopes_are_limited_to_what_the_user_may_do(world) -> None:
    with pytest.raises(ServiceError, match="merchants:read"):
        api_tokens.create(world.alice, "x", ["merchants:read"])
    with pytest.raises(ServiceError):
        api_tokens.create(world.alice, "", ["tickets:read"])
    token, value = api_tokens.create(world.agent, "x", ["merchants:read"])
    assert api_tokens.authenticate(value) is token
    assert api_tokens.authenticate("sit_not-a-token") is None
    assert api_tokens.authenticate("Basic abc") is None


def test_a_merchant_opens_reads_and_answers_a_ticket(client, world, alice_token) -> None:
    created = client.post(
        "/api/v1/tickets",
        json={
            "subject": "Erreur 21000005 en recette",
            "body": "Notre commande de test est refusée avec le Code 21000005.",
            "category": "integration",
            "product": "3X",
            "ref_nr": "ML-TEST-9",
        },
        headers=_auth(alice_token),
    )
    assert created.status_code == 201, created.get_json()
    _validate(client, created, "/tickets", "post", "201")
    reference = created.get_json()["reference"]
    assert created.headers["Location"].endswith(f"/api/v1/tickets/{reference}")
    ticket = db.session.scalar(select(Ticket).where(Ticket.subject.like("Erreur 21000005%")))
    assert ticket.requester_id == world.alice.id and ticket.merchant_id == world.literie.id
    reply = client.post(
        f"/api/v1/tickets/{reference}/messages",
        data={"body": "Voici le journal.", "files": (io.BytesIO(b"Status=FAILED"), "paygate.log")},
        headers=_auth(alice_token),
        content_type="multipart/form-data",
    )
    assert reply.status_code == 201
    _validate(client, reply, "/tickets/{reference}/messages", "post", "201")
    messages = client.get(f"/api/v1/tickets/{reference}/messages", headers=_auth(alice_token))
    _validate(client, messages, "/tickets/{reference}/messages")
    attachment = messages.get_json()["data"][1]["attachments"][0]
    download = client.get(attachment["url"], headers=_auth(alice_token))
    assert download.data == b"Status=FAILED"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    closed = client.post(
        f"/api/v1/tickets/{reference}/status", json={"status": "closed"}, headers=_auth(alice_token)
    )
    assert closed.get_json()["status"] == "closed"
    refused = client.post(
        f"/api/v1/tickets/{reference}/status",
        json={"status": "resolved"},
        headers=_auth(alice_token),
    )
    assert refused.status_code == 422 and refused.get_json()["error"]["field"] == "status"


def test_a_merchant_token_never_sees_another_merchant(client, world, alice_token) -> None:
    bobs = factories.ticket(world.bob, "Secret de Voyages Soleil", body="Confidentiel")
    note = factories.ticket(world.alice, "Mien")
    from supportit.services import tickets

    tickets.reply(note, world.agent, "note interne secrète", internal=True)
    for method, url in (
        ("get", f"/api/v1/tickets/{bobs.reference}"),
        ("get", f"/api/v1/tickets/{bobs.reference}/messages"),
        ("post", f"/api/v1/tickets/{bobs.reference}/messages"),
        ("post", f"/api/v1/tickets/{bobs.reference}/status"),
        ("get", f"/api/v1/tickets/{bobs.reference}/attachments/1"),
    ):
        response = client.open(
            url,
            method=method.upper(),
            json={"body": "x", "status": "closed"},
            headers=_auth(alice_token),
        )
        assert response.status_code == 404, url
        assert response.get_json()["error"]["code"] == "not_found"
        assert "Secret" not in response.get_data(as_text=True)
    listing = client.get("/api/v1/tickets", headers=_auth(alice_token)).get_json()
    assert [t["reference"] for t in listing["data"]] == [note.reference]
    own = client.get(f"/api/v1/tickets/{note.reference}/messages", headers=_auth(alice_token))
    assert "note interne" not in own.get_data(as_text=True)
    for staff_only in ("/api/v1/merchants", "/api/v1/monitors", "/api/v1/oncall"):
        answer = client.get(staff_only, headers=_auth(alice_token))
        assert answer.status_code == 403 and answer.get_json()["error"]["code"] == "missing_scope"
    db.session.refresh(bobs)
    assert len(bobs.messages) == 1 and bobs.status.value == "new"


def test_errors_are_json_with_stable_codes(client, world, alice_token) -> None:
    cases = [
        (client.get("/api/v1/tickets"), 401, "unauthenticated"),
        (client.get("/api/v1/tickets", headers=_auth("sit_nope")), 401, "invalid_token"),
        (client.get("/api/v1/nothing", headers=_auth(alice_token)), 404, "not_found"),
        (client.delete("/api/v1/tickets", headers=_auth(alice_token)), 405, "method_not_allowed"),
        (
            client.post("/api/v1/tickets", data="not json", headers=_auth(alice_token)),
            400,
            "invalid_json",
        ),
        (
            client.post("/api/v1/tickets", json={"body": "x"}, headers=_auth(alice_token)),
            422,
            "missing_field",
        ),
        (
            client.post(
                "/api/v1/tickets",
                json={"subject": "x", "body": "y", "priority": "P9"},
                headers=_auth(alice_token),
            ),
            422,
            "invalid_field",
        ),
        (
            client.get("/api/v1/tickets?limit=0", headers=_auth(alice_token)),
            400,
            "invalid_parameter",
        ),
        (
            client.get("/api/v1/tickets?cursor=%%%", headers=_auth(alice_token)),
            400,
            "invalid_parameter",
        ),
        (client.get("/api/v1/kb/search", headers=_auth(alice_token)), 400, "invalid_parameter"),
    ]
    for response, status, code in cases:
        assert response.status_code == status, (response.get_json(), status)
        assert response.get_json()["error"]["code"] == code
        assert response.mimetype == "application/json"
    assert "Bearer" in cases[0][0].headers["WWW-Authenticate"]


def test_pages_follow_a_cursor_to_the_end(client, world, alice_token) -> None:
    made = [factories.ticket(world.alice, f"Ticket {n}").reference for n in range(7)]
    seen, cursor = [], None
    while True:
        url = "/api/v1/tickets?limit=3" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(url, headers=_auth(alice_token))
        _validate(client, page, "/tickets")
        body = page.get_json()
        seen += [t["reference"] for t in body["data"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(made))


def test_staff_tokens_read_merchants_monitors_on_call_and_the_kb(
    client, app, world, agent_token
) -> None:
    from pathlib import Path

    from supportit import PROJECT_ROOT
    from supportit.services import kb

    kb.sync(Path(PROJECT_ROOT) / "kb")
    for path in ("/merchants", "/monitors", "/incidents", "/oncall"):
        response = client.get(f"/api/v1{path}", headers=_auth(agent_token))
        assert response.status_code == 200, path
        _validate(client, response, path)
    merchants = client.get("/api/v1/merchants", headers=_auth(agent_token)).get_json()["data"]
    assert {m["name"] for m in merchants} == {"Ma Literie", "Voyages Soleil"}
    found = client.get("/api/v1/kb/search?q=HMAC&lang=en", headers=_auth(agent_token))
    _validate(client, found, "/kb/search")
    assert found.get_json()["data"][0]["title"] == "Computing the MAC (HMAC-SHA256)"
    created = client.post(
        "/api/v1/tickets",
        json={
            "subject": "Pour Ma Literie",
            "body": "Ouvert par l'agent",
            "merchant_id": world.literie.id,
        },
        headers=_auth(agent_token),
    )
    assert created.status_code == 201
    note = client.post(
        f"/api/v1/tickets/{created.get_json()['reference']}/messages",
        json={"body": "note", "internal": True},
        headers=_auth(agent_token),
    )
    assert note.get_json()["internal"] is True


def test_a_stale_version_is_a_conflict(client, world, agent_token) -> None:
    ticket = factories.ticket(world.alice, "Concurrence")
    old = ticket.version
    first = client.post(
        f"/api/v1/tickets/{ticket.reference}/status",
        json={"status": "open", "version": old},
        headers=_auth(agent_token),
    )
    assert first.status_code == 200
    second = client.post(
        f"/api/v1/tickets/{ticket.reference}/status",
        json={"status": "resolved", "version": old},
        headers=_auth(agent_token),
    )
    assert second.status_code == 409 and second.get_json()["error"]["code"] == "conflict"


def test_rate_limits_answer_429(client, app, world, alice_token) -> None:
    app.config["API_RATE_LIMIT"] = "3 per minute"
    answers = [client.get("/api/v1/me", headers=_auth(alice_token)).status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    limited = client.get("/api/v1/me", headers=_auth(alice_token))
    assert limited.get_json()["error"]["code"] == "rate_limited"


def test_rate_limits_kept_in_redis_hold_across_workers(tmp_path, world, alice_token) -> None:
    """docs/deploy.md's setting for several web workers: the counts live in Redis, where
    every worker reads and adds to them, not in the process that answered."""
    server = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        server.ping()
    except redis.ConnectionError:
        pytest.skip(f"no Redis server at {REDIS_URL}")
    prefix = f"supportit-test-{uuid.uuid4().hex}"
    settings = {"RATELIMIT_STORAGE_URI": REDIS_URL, "RATELIMIT_KEY_PREFIX": prefix}
    try:
        worker = make_app(tmp_path, API_RATE_LIMIT="3 per minute", **settings).test_client()
        answers = [worker.get("/api/v1/me", headers=_auth(alice_token)).status_code]
        # Another worker, started afterwards: it finds the first one's count.
        worker = make_app(tmp_path, API_RATE_LIMIT="3 per minute", **settings).test_client()
        answers += [worker.get("/api/v1/me", headers=_auth(alice_token)).status_code for _ in "abc"]
        assert answers == [200, 200, 200, 429]
        assert server.keys(f"*{prefix}*"), "the counts are in Redis"
    finally:
        for key in server.scan_iter(f"*{prefix}*"):
            server.delete(key)
        server.close()


def test_the_openapi_document_describes_every_route_and_nothing_else(app, client) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"] == "3.1.0"
    served = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                served.add((path, method.lower()))
    described = {(path, method) for path, item in document["paths"].items() for method in item}
    assert served == described
    jsonschema.Draft202012Validator.check_schema({"$defs": document["components"]["schemas"]})


def test_the_tokens_page_explains_bad_input(client, world) -> None:
    login(client, world.alice)
    page = client.post("/account/tokens", data={"name": "", "scopes": ["tickets:read"]})
    assert page.status_code == 400
    assert "Donnez un nom au jeton" in html.unescape(page.get_data(as_text=True))
    assert db.session.scalar(select(func.count(ApiToken.id))) == 0


def test_ids_beyond_32_bits_are_not_found_not_a_crash(client, world, alice_token) -> None:
    ticket = factories.ticket(world.alice, "Pièce jointe")
    huge = 3564031124997464574229944169660416  # what Schemathesis sent
    answer = client.get(
        f"/api/v1/tickets/{ticket.reference}/attachments/{huge}", headers=_auth(alice_token)
    )
    assert answer.status_code == 404 and answer.get_json()["error"]["code"] == "not_found"
    login(client, world.alice)
    page = client.get(f"/portal/tickets/{ticket.reference}/attachments/{huge}")
    assert page.status_code == 404


def test_a_concurrent_change_is_retried_when_the_client_sent_no_version(
    client, world, alice_token, monkeypatch
) -> None:
    from supportit.services import tickets as service
    from supportit.services.errors import StaleTicket

    ticket = factories.ticket(world.alice, "Course")
    real = service.reply
    calls = []

    def first_stale(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(kwargs.get("expected_version"))
        if len(calls) == 1:  # an agent changed the ticket between our read and our write
            raise StaleTicket("changed")
        return real(*args, **kwargs)

    monkeypatch.setattr(service, "reply", first_stale)
    answer = client.post(
        f"/api/v1/tickets/{ticket.reference}/messages",
        json={"body": "Précision"},
        headers=_auth(alice_token),
    )
    assert answer.status_code == 201 and calls == [None, None]
    calls.clear()
    with_version = client.post(
        f"/api/v1/tickets/{ticket.reference}/messages",
        json={"body": "Autre", "version": 1},
        headers=_auth(alice_token),
    )
    assert with_version.status_code == 409  # the client asked to know: no retry
