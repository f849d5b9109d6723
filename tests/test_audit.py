"""The audit log of sensitive actions, and the login throttle that reads it."""

from __future__ import annotations

import html
from datetime import timedelta

import time_machine
from sqlalchemy import select

from supportit.db import db, utcnow
from supportit.models import AuditEvent, Merchant
from supportit.services import audit, paygate, users
from tests import factories
from tests.conftest import login


def _actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def _try(client, email: str, password: str) -> str:  # type: ignore[no-untyped-def]
    response = client.post("/login", data={"email": email, "password": password})
    return html.unescape(response.get_data(as_text=True)) if response.status_code == 200 else ""


def test_five_failures_lock_the_address_even_for_the_right_password(client, world) -> None:
    email = world.alice.email
    for _ in range(5):
        assert "Adresse e-mail ou mot de passe incorrect" in _try(client, email, "wrong")
    refused = _try(client, email, factories.PASSWORD)
    assert "Trop de tentatives échouées" in refused and "15 minutes" in refused
    assert _actions()[-1] == "login_refused"
    # A lock is no proof that the account exists: an unknown address locks the same way.
    for _ in range(5):
        _try(client, "nobody@example.com", "wrong")
    assert "Trop de tentatives" in _try(client, "nobody@example.com", "wrong")
    with time_machine.travel(utcnow() + timedelta(minutes=16), tick=False):
        assert _try(client, email, factories.PASSWORD) == ""  # redirected: logged in
    assert _actions()[-1] == "login"


def test_a_success_clears_earlier_failures(client, world) -> None:
    for _ in range(4):
        _try(client, world.alice.email, "wrong")
    assert _try(client, world.alice.email, factories.PASSWORD) == ""
    client.post("/logout")
    for _ in range(4):
        _try(client, world.alice.email, "wrong")
    assert _try(client, world.alice.email, factories.PASSWORD) == ""


def test_one_client_trying_many_addresses_is_refused(app, client, world) -> None:
    app.config["LOGIN_MAX_FAILURES_PER_CLIENT"] = 6
    for n in range(6):
        _try(client, f"guess{n}@example.com", "wrong")
    assert "Trop de tentatives" in _try(client, world.bob.email, factories.PASSWORD)


def test_sensitive_actions_are_recorded_without_secrets(app, client, world) -> None:
    staff = users.create_staff(
        email="new.agent@floa.example", name="New Agent", role="admin", password="long-password-1"
    )
    account = paygate.save_account(
        world.admin,
        world.literie,
        "maliterie_test",
        "recette",
        "Blowfish-Secret-1",
        "Hmac-Secret-2",
    )
    paygate.delete_account(world.admin, account)
    login(client, world.admin)
    client.get("/queue/kpis?export=merchants")
    events = {e.action: e for e in db.session.scalars(select(AuditEvent))}
    assert events["role_granted"].target == staff.email and events["role_granted"].detail == {
        "role": "admin"
    }
    saved = events["paygate_keys_saved"]
    assert saved.actor_id == world.admin.id and saved.target == "maliterie_test"
    assert saved.detail["blowfish_changed"] is True
    assert events["paygate_keys_deleted"].target == "maliterie_test"
    assert events["export"].target.startswith("supportit-merchants-")
    assert events["login"].ip == "127.0.0.1"
    text = repr([(e.target, e.detail, e.email) for e in events.values()])
    assert "Blowfish-Secret-1" not in text and "Hmac-Secret-2" not in text
    assert "long-password-1" not in text


def test_only_admins_read_the_audit_log(client, world) -> None:
    login(client, world.agent)
    assert client.get("/admin/audit").status_code in (403, 404)
    admin = client.application.test_client()
    login(admin, world.admin)
    page = html.unescape(admin.get("/admin/audit").get_data(as_text=True))
    assert "connexion" in page.lower() and world.agent.name in page
    failed = admin.get("/admin/audit?action=login_failed")
    assert failed.status_code == 200


def test_the_throttle_counts_only_the_window(app, world) -> None:
    with app.test_request_context(environ_base={"REMOTE_ADDR": "10.0.0.9"}):
        for _ in range(5):
            audit.record(audit.LOGIN_FAILED, email="x@example.com")
        assert audit.locked_until("x@example.com") is not None
        later = utcnow() + timedelta(minutes=15, seconds=1)
        assert audit.locked_until("x@example.com", later) is None
    assert db.session.get(Merchant, world.literie.id) is not None
