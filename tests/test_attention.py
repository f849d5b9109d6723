"""Above every agent page: alerts nobody acknowledged, mailboxes failing to fetch, the bell.
Nearly always nothing, which one statement says."""

from __future__ import annotations

import html
from datetime import timedelta

import pytest
from sqlalchemy import event, select

from supportit.db import db, utcnow
from supportit.models import (
    AgentNotice,
    Alert,
    AlertSource,
    AlertStatus,
    MailboxStatus,
    NoticeKind,
    Priority,
)
from tests import factories
from tests.conftest import login

BANNER_TABLES = ("alert", "mailbox_status", "agent_notice")


def _banner_statements(client, url: str) -> list[str]:  # type: ignore[no-untyped-def]
    seen: list[str] = []
    listener = lambda *args: seen.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    return [s for s in seen if any(f"FROM {t}" in s for t in BANNER_TABLES)]


@pytest.mark.parametrize(
    ("url", "expected"),
    # The ticket page counts the notices first, to read the ticket's own: the count is kept.
    [("/queue/?view=open", 1), ("/queue/tickets/{reference}", 2)],
)
def test_with_nothing_to_show_one_statement_says_so(client, world, url: str, expected) -> None:
    ticket = factories.ticket(world.alice)
    login(client, world.agent)
    url = url.format(reference=ticket.reference)
    client.get(url)
    statements = _banner_statements(client, url)
    assert len(statements) == expected, statements
    page = client.get(url).get_data(as_text=True)
    assert 'data-testid="open-alert"' not in page and "Mail fetching" not in page


def _monitor_alert(key: str, title: str, status: AlertStatus) -> Alert:
    return Alert(
        dedup_key=key,
        source=AlertSource.MONITOR,
        title=title,
        priority=Priority.P1,
        status=status,
        route="oncall",
        policy={},
    )


def test_an_open_alert_a_failing_mailbox_and_unread_notices_are_shown(client, world) -> None:
    ticket = factories.ticket(world.alice)
    now = utcnow()
    db.session.add_all(
        [
            _monitor_alert("paygate:down", "Paygate ne répond plus", AlertStatus.OPEN),
            _monitor_alert("paygate:slow", "Paygate lent", AlertStatus.ACKNOWLEDGED),
            MailboxStatus(name="support@imap.example/INBOX", last_error_at=now, last_error="auth"),
            # Failed, then fetched again since: nothing to tell.
            MailboxStatus(
                name="archive@imap.example/INBOX",
                last_error_at=now - timedelta(hours=1),
                last_success_at=now,
            ),
            *(
                AgentNotice(user_id=world.agent.id, ticket_id=ticket.id, kind=kind, actor_name="A")
                for kind in (NoticeKind.MENTION, NoticeKind.ACTIVITY)
            ),
        ]
    )
    db.session.commit()
    login(client, world.agent)

    page = html.unescape(client.get("/queue/?view=open").get_data(as_text=True))

    assert page.count('data-testid="open-alert"') == 1
    assert "Paygate ne répond plus" in page and "Paygate lent" not in page
    assert "support@imap.example/INBOX" in page and "archive@imap.example" not in page
    assert "Notifications: 2" in page or "Notifications : 2" in page
    # The ticket page reads the ticket's notices, and the bell says so at once.
    page = html.unescape(client.get(f"/queue/tickets/{ticket.reference}").get_data(as_text=True))
    assert "Notifications :" not in page and "Notifications:" not in page


@pytest.mark.parametrize(
    ("error", "success", "failing"),
    [(None, None, False), (None, 0, False), (0, None, True), (1, 0, True), (0, 1, False)],
)
def test_a_mailbox_fails_alike_in_python_and_in_sql(app, error, success, failing) -> None:
    now = utcnow()
    at = lambda hours: None if hours is None else now + timedelta(hours=hours)  # noqa: E731
    box = MailboxStatus(name="box", last_error_at=at(error), last_success_at=at(success))
    db.session.add(box)
    db.session.commit()
    assert box.failing is failing
    assert db.session.scalar(select(MailboxStatus.id).where(MailboxStatus.failing)) == (
        box.id if failing else None
    )
