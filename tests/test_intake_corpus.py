"""Every fixture in tests/fixtures/mail states its expected outcome in an X-Test-Expect header:
`new_ticket [flag=F] [linked=REF]`, `reply REF`, `auto_reply`, `bounce` or `quarantined`."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from supportit.db import db
from supportit.intake import pipeline
from supportit.intake.parse import parse
from supportit.models import InboundMail, InboundReason, InboundStatus, Message, Ticket
from tests import mail_world

FIXTURES = sorted((Path(__file__).parent / "fixtures" / "mail").glob("*.eml"))


def _expectation(raw: bytes) -> list[str]:
    first = raw.split(b"\n", 1)[0].decode().strip()
    assert first.startswith("X-Test-Expect:"), "each fixture starts with its expected outcome"
    return first.split(":", 1)[1].split()


def test_the_corpus_is_large_enough() -> None:
    assert len(FIXTURES) >= 40


@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_fixture_outcome(app, world, path: Path) -> None:
    known = mail_world.build(world)
    tickets_before = db.session.scalar(select(func.count(Ticket.id)))
    raw = path.read_bytes()
    outcome, *details = _expectation(raw)
    record = pipeline.ingest(raw, channel="eml")
    options = dict(d.split("=", 1) for d in details if "=" in d)
    tickets_after = db.session.scalar(select(func.count(Ticket.id)))
    assert record.status.value == outcome, (record.reason_code, record.reason_detail)
    if outcome == "new_ticket":
        assert tickets_after == tickets_before + 1
        ticket = record.ticket
        assert ticket.messages[0].source.value == "email"
        assert ticket.messages[0].body_text.strip()
        assert (ticket.flag.value if ticket.flag else None) == options.get("flag")
        if "linked" in options:
            assert ticket.linked_ticket.reference == options["linked"]
    elif outcome == "reply":
        assert tickets_after == tickets_before
        assert record.ticket.reference == details[0]
        assert record.message in record.ticket.messages
    else:
        assert tickets_after == tickets_before
        if outcome == "quarantined":
            assert record.reason_code is not None
    assert known  # the world was built


def test_every_fixture_is_stored_raw_and_never_modified(app, world) -> None:
    mail_world.build(world)
    for path in FIXTURES:
        record = pipeline.ingest(path.read_bytes(), channel="eml")
        assert pipeline.raw_bytes(record) == path.read_bytes()
        assert record.status is not InboundStatus.RECEIVED


def test_redelivered_bytes_change_nothing(app, world) -> None:
    mail_world.build(world)
    raw = FIXTURES[0].read_bytes()
    first = pipeline.ingest(raw, channel="smtp")
    again = pipeline.ingest(raw, channel="imap")
    assert again.id == first.id
    assert db.session.scalar(select(func.count(InboundMail.id))) == 1
    assert db.session.scalar(select(func.count(Ticket.id))) == 5


def test_a_mail_whose_worker_died_while_filing_it_is_filed_when_sent_again(
    app, world, monkeypatch
) -> None:
    """Nothing of a mail is committed before it is filed: the sender, who got no answer,
    sends it again, and this time it becomes a ticket (it used to be answered as already
    received, and never filed)."""
    from supportit.services import tickets

    mail_world.build(world)
    raw = (Path(__file__).parent / "fixtures/mail/01_plain_new_ticket.eml").read_bytes()

    def killed(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt  # stands for the process killed in the middle of the filing

    monkeypatch.setattr(tickets, "open_ticket", killed)
    with pytest.raises(KeyboardInterrupt):
        pipeline.ingest(raw, channel="smtp")
    db.session.remove()  # the process is gone, and its transaction with it
    monkeypatch.undo()
    assert db.session.scalar(select(func.count(InboundMail.id))) == 0
    record = pipeline.ingest(raw, channel="smtp")
    assert record.status is InboundStatus.NEW_TICKET and record.ticket is not None


def test_the_same_bytes_filed_by_two_processes_at_once_make_one_ticket(
    app, world, monkeypatch
) -> None:
    """Both see no earlier copy; the second to commit hits the unique digest, and answers with
    the first one's record instead of a second ticket."""
    from supportit.intake import threading

    mail_world.build(world)
    raw = (Path(__file__).parent / "fixtures/mail/01_plain_new_ticket.eml").read_bytes()
    original = threading.find_ticket
    raced = []

    def the_other_process_files_it_first(mail, sender):  # type: ignore[no-untyped-def]
        if not raced:
            raced.append(True)
            with app.app_context():  # another session, as another process would have
                db.session.remove()
                other = pipeline.ingest(raw, channel="imap")
                raced.append(other.id)
                db.session.remove()
        return original(mail, sender)

    monkeypatch.setattr(threading, "find_ticket", the_other_process_files_it_first)
    tickets_before = db.session.scalar(select(func.count(Ticket.id)))
    record = pipeline.ingest(raw, channel="smtp")
    assert record.id == raced[1] and record.channel == "imap"
    assert db.session.scalar(select(func.count(InboundMail.id))) == 1
    assert db.session.scalar(select(func.count(Ticket.id))) == tickets_before + 1


def test_a_mail_is_dated_when_it_arrived_not_when_its_filing_was_committed(
    app, world, monkeypatch
) -> None:
    from datetime import UTC, datetime, timedelta

    import time_machine

    from supportit.intake import threading

    mail_world.build(world)
    raw = (Path(__file__).parent / "fixtures/mail/01_plain_new_ticket.eml").read_bytes()
    arrived = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
    original = threading.find_ticket
    with time_machine.travel(arrived, tick=False) as clock:

        def slow_to_file(mail, sender):  # type: ignore[no-untyped-def]
            clock.shift(timedelta(seconds=3))  # waiting for the write lock, say
            return original(mail, sender)

        monkeypatch.setattr(threading, "find_ticket", slow_to_file)
        record = pipeline.ingest(raw, channel="smtp")
    assert record.received_at == arrived
    assert record.processed_at == arrived + timedelta(seconds=3)


def test_same_message_id_through_another_route_is_a_duplicate(app, world) -> None:
    mail_world.build(world)
    raw = (Path(__file__).parent / "fixtures/mail/41_several_support_addresses.eml").read_bytes()
    first = pipeline.ingest(raw, channel="smtp")
    relayed = b"Received: from relay.example by mx.floa.example; Mon, 23 Nov 2026\r\n" + raw
    second = pipeline.ingest(relayed, channel="smtp")
    assert second.status is InboundStatus.DUPLICATE and second.ticket_id == first.ticket_id
    assert db.session.scalar(select(func.count(Ticket.id))) == 5
    assert db.session.scalar(select(func.count(Message.id)).where(Message.ticket_id == 5)) == 1


def test_a_failure_while_filing_leaves_no_half_filed_mail(app, world, monkeypatch) -> None:
    """The ticket, its message and the record's outcome are committed together or not at all."""
    from supportit.services import notify

    mail_world.build(world)
    raw = (Path(__file__).parent / "fixtures/mail/01_plain_new_ticket.eml").read_bytes()
    tickets_before = db.session.scalar(select(func.count(Ticket.id)))

    def broken(ticket: Ticket) -> None:
        raise RuntimeError("template missing")

    monkeypatch.setattr(notify, "ticket_opened", broken)
    record = pipeline.ingest(raw, channel="smtp")
    assert record.status is InboundStatus.QUARANTINED
    assert record.reason_code is InboundReason.PROCESSING_FAILED
    assert "template missing" in record.reason_detail
    assert record.ticket_id is None and record.message_id_fk is None
    assert db.session.scalar(select(func.count(Ticket.id))) == tickets_before
    monkeypatch.undo()
    # The next mail goes through: one bad message never blocks the ones after it.
    after = pipeline.ingest(raw.replace(b"Message-ID: <", b"Message-ID: <next-"), channel="smtp")
    assert after.status is InboundStatus.NEW_TICKET


def test_a_ticket_changed_while_a_mail_is_filed_is_retried_not_quarantined(
    app, world, monkeypatch
) -> None:
    """Two mails (or a mail and an agent) on one ticket at once: the loser files again."""
    from sqlalchemy import update

    from supportit.intake import threading

    known = mail_world.build(world)
    original = threading.find_ticket
    conflicts = []

    def find_then_someone_else_writes(mail, sender):  # type: ignore[no-untyped-def]
        found = original(mail, sender)
        if not conflicts:  # the first attempt loses the race; the second one wins
            with db.engine.begin() as other:
                other.execute(
                    update(Ticket).where(Ticket.id == 1).values(version=Ticket.version + 1)
                )
            conflicts.append(True)
        return found

    monkeypatch.setattr(threading, "find_ticket", find_then_someone_else_writes)
    raw = (Path(__file__).parent / "fixtures/mail/02_gmail_reply_fr.eml").read_bytes()
    record = pipeline.ingest(raw, channel="smtp")
    assert conflicts and record.status is InboundStatus.REPLY
    assert record.ticket == known[1] and record.message in known[1].messages
    assert record.reason_code is None


def test_a_sender_over_the_hourly_limit_is_quarantined_and_older_mail_does_not_count(
    app, world
) -> None:
    """The limit counts the sender's mails of the last hour, from an index on (address, time):
    a merchant's years of earlier mail are neither counted nor read."""
    from datetime import UTC, datetime

    import time_machine
    from sqlalchemy import event

    mail_world.build(world)
    app.config["MAIL_RATE_LIMIT_PER_HOUR"] = 3
    raw = (Path(__file__).parent / "fixtures/mail/01_plain_new_ticket.eml").read_bytes()

    def mail(n: int) -> bytes:
        return raw.replace(b"Message-ID: <", b"Message-ID: <flood-%d-" % n)

    with time_machine.travel(datetime(2026, 12, 1, 8, 0, tzinfo=UTC), tick=False):
        earlier = [pipeline.ingest(mail(n), channel="smtp") for n in range(3)]
    assert [r.status for r in earlier] == [InboundStatus.NEW_TICKET] * 3
    with time_machine.travel(datetime(2026, 12, 1, 9, 0, 1, tzinfo=UTC), tick=False):
        now = [pipeline.ingest(mail(n), channel="smtp") for n in range(3, 7)]
    assert [r.status for r in now] == [InboundStatus.NEW_TICKET] * 3 + [InboundStatus.QUARANTINED]
    assert now[-1].reason_code is InboundReason.RATE_LIMITED and now[-1].reason_detail == "3"

    if db.engine.dialect.name == "sqlite":
        seen: list[tuple[str, object]] = []
        record = lambda *args: seen.append((args[2], args[3]))  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", record)
        try:
            pipeline._seen("0" * 64, parse(mail(7)))
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
        ((statement, parameters),) = seen
        plan = " ".join(
            row[-1]
            for row in db.session.connection().exec_driver_sql(
                f"EXPLAIN QUERY PLAN {statement}", parameters
            )
        )
        assert "ix_inbound_mail_from_address_received (from_address=? AND received_at>?)" in plan


def test_a_new_mail_asks_for_earlier_records_once_and_for_its_sender_once(app, world) -> None:
    """Before it is filed, a mail reads its earlier records (the same bytes, a copy with its
    Message-ID, its sender's last hour) in one statement, and its sender with their merchant
    in another: each statement is a round trip, paid for every mail."""
    from sqlalchemy import event

    mail_world.build(world)
    db.session.expire_all()  # as in an intake process: the merchant is not in the session yet
    raw = (Path(__file__).parent / "fixtures/mail/01_plain_new_ticket.eml").read_bytes()
    seen: list[str] = []

    def record(*args: object) -> None:
        seen.append(" ".join(str(args[2]).split()))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        filed = pipeline.ingest(raw, channel="smtp")
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert filed.status is InboundStatus.NEW_TICKET and filed.ticket.merchant == world.literie
    before = seen[: next(i for i, s in enumerate(seen) if s.startswith("INSERT"))]
    assert len([s for s in before if "FROM inbound_mail" in s]) == 1, before
    assert len([s for s in before if "FROM merchant" in s or "FROM user_account" in s]) == 1
