"""Password reset by mail: a single-use link that expires, delivered over a real SMTP session;
the same answer for every address; a new password ends the account's other sessions."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from supportit.db import db, utcnow
from supportit.models import AuditEvent, OutboundMail
from supportit.services import outbox
from tests import factories
from tests.conftest import login
from tests.smtp_sink import start_sink

LINK = re.compile(r"http\S*/password/reset/[\w.-]+")


@pytest.fixture
def sink(app) -> Iterator:
    controller, sink = start_sink()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=controller.port)
    yield sink
    controller.stop()


def _ask(client, email: str) -> str:  # type: ignore[no-untyped-def]
    answer = client.post("/password/forgot", data={"email": email}, follow_redirects=True)
    return html.unescape(answer.get_data(as_text=True))


def test_the_link_arrives_by_mail_works_once_and_ends_other_sessions(app, client, world, sink):
    other = app.test_client()
    login(other, world.alice)  # a session elsewhere, before the reset
    assert other.get("/portal/").status_code == 200
    said = _ask(client, world.alice.email)
    assert "Si un compte utilise cette adresse" in said
    assert outbox.deliver_due() == 1
    mail = sink.messages[0]
    assert mail["To"] == world.alice.email and "mot de passe" in mail["Subject"]
    link = LINK.search(mail.get_body(("plain",)).get_content()).group(0)
    path = link[link.index("/password/reset/") :]
    form = client.get(path)
    assert form.status_code == 200 and world.alice.email in form.get_data(as_text=True)
    mismatch = client.post(path, data={"password": "nouveau-secret-1", "confirm": "autre-chose-2"})
    assert mismatch.status_code == 400
    assert "ne sont pas identiques" in html.unescape(mismatch.get_data(as_text=True))
    done = client.post(
        path,
        data={"password": "nouveau-secret-1", "confirm": "nouveau-secret-1"},
        follow_redirects=True,
    )
    assert "Votre mot de passe est changé" in html.unescape(done.get_data(as_text=True))
    assert other.get("/portal/").status_code == 302  # the old session ended
    login(client, world.alice, "nouveau-secret-1")
    client.post("/logout")
    again = client.get(path, follow_redirects=True)
    assert "Ce lien a déjà servi" in html.unescape(again.get_data(as_text=True))
    actions = list(db.session.scalars(select(AuditEvent.action)))
    assert "password_reset_requested" in actions and "password_reset" in actions


def test_unknown_addresses_get_the_same_answer_and_no_mail(client, world) -> None:
    said = _ask(client, "nobody@example.com")
    assert "Si un compte utilise cette adresse" in said
    assert db.session.scalar(select(OutboundMail)) is None


def test_links_expire_after_an_hour_and_forged_ones_are_refused(app, client, world) -> None:
    _ask(client, world.bob.email)
    body = db.session.scalar(select(OutboundMail.body_text))
    path = LINK.search(body).group(0)
    path = path[path.index("/password/reset/") :]
    with time_machine.travel(utcnow() + timedelta(minutes=61), tick=False):
        late = client.get(path, follow_redirects=True)
        assert "Ce lien a expiré" in html.unescape(late.get_data(as_text=True))
    forged = client.get(path[:-3] + "abc", follow_redirects=True)
    assert "pas valide" in html.unescape(forged.get_data(as_text=True))
    short = client.post(path, data={"password": "court", "confirm": "court"})
    assert short.status_code == 400
    assert world.bob.check_password(factories.PASSWORD)


def test_a_mailbox_is_not_flooded(client, world) -> None:
    for _ in range(5):
        _ask(client, world.alice.email)
    assert len(db.session.scalars(select(OutboundMail)).all()) == 3
