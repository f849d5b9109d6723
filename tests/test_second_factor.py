"""The optional second factor of agents and admins: turned on with a confirming code, asked at
every login after the password, each code good once, throttled like passwords."""

from __future__ import annotations

import html
import re
import time

import pyotp
import pytest
import time_machine
from sqlalchemy import select

from supportit.db import db
from supportit.models import AuditEvent
from supportit.services import second_factor
from supportit.services.errors import ServiceError
from tests import factories
from tests.conftest import login


def _enable(client, world) -> str:  # type: ignore[no-untyped-def]
    login(client, world.agent)
    page = client.get("/account/security").get_data(as_text=True)
    assert 'src="data:image/svg+xml' in page  # the QR code
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7]+)<', page).group(1)
    wrong = client.post("/account/security", data={"code": "000000"})
    assert wrong.status_code == 400
    assert "ne correspond pas" in html.unescape(wrong.get_data(as_text=True))
    done = client.post(
        "/account/security", data={"code": pyotp.TOTP(secret).now()}, follow_redirects=True
    )
    assert "Second facteur activé" in html.unescape(done.get_data(as_text=True))
    db.session.refresh(world.agent)
    assert world.agent.has_second_factor and secret not in (world.agent.totp_secret_sealed or "")
    client.post("/logout")
    return secret


def _password(client, world):  # type: ignore[no-untyped-def]
    return client.post("/login", data={"email": world.agent.email, "password": factories.PASSWORD})


def test_a_login_asks_for_the_code_after_the_password(client, world) -> None:
    secret = _enable(client, world)
    with time_machine.travel(time.time() + 31, tick=False):  # the next code
        step = _password(client, world)
        assert step.headers["Location"].endswith("/login/code")
        assert client.get("/queue/").status_code == 302  # not logged in yet
        bad = client.post("/login/code", data={"code": "123456"})
        assert bad.status_code == 400
        future = pyotp.TOTP(secret).at(time.time() + 60)  # a code from the future is refused
        assert client.post("/login/code", data={"code": future}).status_code == 400
        good = client.post("/login/code", data={"code": pyotp.TOTP(secret).now()})
        assert good.status_code == 302 and client.get("/queue/").status_code == 200
    actions = list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    assert actions[-3:] == ["login_failed", "login_failed", "login"]


def test_a_code_is_good_once(client, world) -> None:
    secret = _enable(client, world)
    now = time.time() + 31
    assert second_factor.verify(world.agent, pyotp.TOTP(secret).at(now), now)
    assert not second_factor.verify(world.agent, pyotp.TOTP(secret).at(now), now)


def test_codes_are_throttled_like_passwords(client, world) -> None:
    _enable(client, world)
    _password(client, world)
    for _ in range(5):
        client.post("/login/code", data={"code": "000000"})
    refused = client.post("/login/code", data={"code": "000000"})
    assert "Trop de tentatives" in html.unescape(refused.get_data(as_text=True))


def test_the_code_must_follow_the_password_soon(client, world) -> None:
    secret = _enable(client, world)
    _password(client, world)
    with time_machine.travel(time.time() + 301, tick=False):
        late = client.post("/login/code", data={"code": pyotp.TOTP(secret).now()})
        assert late.headers["Location"].endswith("/login")


def test_turning_it_off_needs_a_code_and_merchants_have_none(client, world) -> None:
    secret = _enable(client, world)
    with time_machine.travel(time.time() + 31, tick=False):
        _password(client, world)
        client.post("/login/code", data={"code": pyotp.TOTP(secret).now()})
    with time_machine.travel(time.time() + 62, tick=False):
        off = client.post(
            "/account/security", data={"code": pyotp.TOTP(secret).now()}, follow_redirects=True
        )
        assert "Second facteur désactivé" in html.unescape(off.get_data(as_text=True))
    assert not world.agent.has_second_factor
    merchant = client.application.test_client()
    login(merchant, world.alice)
    assert merchant.get("/account/security").status_code == 404
    secret = second_factor.new_secret()
    with pytest.raises(ServiceError, match="l'équipe support"):
        second_factor.enable(world.alice, secret, pyotp.TOTP(secret).now())
    assert not world.alice.has_second_factor
