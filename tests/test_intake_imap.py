"""IMAP intake against a real Dovecot over IMAPS on loopback."""

from __future__ import annotations

import imaplib
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from supportit.db import db
from supportit.intake import imap
from supportit.models import InboundMail, MailboxStatus, Ticket
from tests import imap_server
from tests.conftest import login

pytestmark = pytest.mark.skipif(
    not imap_server.available(),
    reason="needs Debian's dovecot-imapd and root (make test installs it)",
)
FIXTURES = Path(__file__).parent / "fixtures" / "mail"


@pytest.fixture(scope="module")
def running_server() -> Iterator[imap_server.ImapServer]:
    running = imap_server.start()
    yield running
    running.stop()


@pytest.fixture
def server(running_server: imap_server.ImapServer) -> imap_server.ImapServer:
    running_server.empty()
    return running_server


def _box(server: imap_server.ImapServer, password: str | None = None) -> imap.Mailbox:
    return imap.Mailbox(
        host="127.0.0.1",
        port=server.port,
        username=server.username,
        password=password or server.password,
        cafile=server.cafile,
    )


def test_fetch_ingests_and_moves_never_deletes(app, world, server) -> None:
    names = ["01_plain_new_ticket", "12_out_of_office_fr", "32_missing_from"]
    for name in names:
        server.deliver((FIXTURES / f"{name}.eml").read_bytes())
    assert imap.fetch_once(_box(server)) == 3
    assert server.folder_messages("INBOX") == []
    assert len(server.folder_messages("SupportIT-Processed")) == 3
    statuses = db.session.scalars(select(InboundMail.status).order_by(InboundMail.id)).all()
    assert [s.value for s in statuses] == ["new_ticket", "auto_reply", "quarantined"]
    assert {m.channel for m in db.session.scalars(select(InboundMail))} == {"imap"}
    status = db.session.scalars(select(MailboxStatus)).one()
    assert status.fetched_total == 3 and not status.failing


def test_a_message_seen_again_changes_nothing(app, world, server) -> None:
    raw = (FIXTURES / "01_plain_new_ticket.eml").read_bytes()
    server.deliver(raw)
    imap.fetch_once(_box(server))
    server.deliver(raw)
    assert imap.fetch_once(_box(server)) == 1
    assert db.session.scalar(select(func.count(Ticket.id))) == 1


def test_failing_login_alerts_the_agents_and_touches_nothing(app, world, server, client) -> None:
    server.deliver((FIXTURES / "01_plain_new_ticket.eml").read_bytes())
    with pytest.raises(imaplib.IMAP4.error):
        imap.fetch_once(_box(server, password="expired-password"))
    assert len(server.folder_messages("INBOX")) == 1
    status = db.session.scalars(select(MailboxStatus)).one()
    assert status.failing and "AUTHENTICATIONFAILED" in status.last_error
    login(client, world.agent)
    page = client.get("/queue/").get_data(as_text=True)
    assert "La réception des mails échoue" in page and status.name in page
    login_merchant = app.test_client()
    login(login_merchant, world.alice)
    assert "réception des mails" not in login_merchant.get("/portal/").get_data(as_text=True)
    imap.fetch_once(_box(server))
    db.session.refresh(status)
    assert not status.failing


def test_cli_polls_once_from_configuration(app, world, server) -> None:
    app.config.update(
        IMAP_HOST="127.0.0.1",
        IMAP_PORT=server.port,
        IMAP_USERNAME=server.username,
        IMAP_PASSWORD=server.password,
        IMAP_CAFILE=server.cafile,
    )
    server.deliver((FIXTURES / "09_unknown_sender.eml").read_bytes())
    result = app.test_cli_runner().invoke(args=["intake", "imap", "--once"])
    assert result.exit_code == 0, result.output
    assert "1 message(s) fetched" in result.output
