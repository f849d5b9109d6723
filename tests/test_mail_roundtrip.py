"""By mail alone, over real SMTP sessions on loopback: open, follow and close a ticket."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from email.message import EmailMessage

import pytest
from sqlalchemy import func, select

from supportit.db import db
from supportit.intake import smtp as intake_smtp
from supportit.models import InboundMail, OutboundMail, OutboundStatus, Status, Ticket
from supportit.services import outbox, tickets
from tests.smtp_sink import free_port, start_sink

SUPPORT = "support-it-floapay@floa.example"


@pytest.fixture
def sink(app) -> Iterator:
    controller, sink = start_sink()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=controller.port)
    yield sink
    controller.stop()


@pytest.fixture
def intake(app) -> Iterator[int]:
    app.config["MAIL_MAX_BYTES"] = 64 * 1024
    port = free_port()
    controller = intake_smtp.controller(app, "127.0.0.1", port)
    controller.start()
    yield port
    controller.stop()


def _send(port: int, message: EmailMessage) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.send_message(message, from_addr=message["From"], to_addrs=[SUPPORT])


def _mail(subject: str, body: str, *, reply_to: EmailMessage | None = None) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Alice Bernard <alice@maliterie.example>"
    message["To"] = SUPPORT
    message["Subject"] = subject
    message["Message-ID"] = f"<{abs(hash((subject, body)))}@maliterie.example>"
    if reply_to is not None:
        message["In-Reply-To"] = reply_to["Message-ID"]
        message["References"] = reply_to["Message-ID"]
    message.set_content(body)
    return message


def _latest_ticket() -> Ticket:
    db.session.expire_all()
    return db.session.scalars(select(Ticket).order_by(Ticket.id.desc())).first()


def test_open_follow_and_close_a_ticket_by_mail(app, world, sink, intake) -> None:
    _send(intake, _mail("Paiement 3X refusé", "Bonjour, le Code est 21000005."))
    ticket = _latest_ticket()
    assert (ticket.requester, ticket.status) == (world.alice, Status.NEW)
    assert outbox.deliver_due() == 1
    ack = sink.messages[-1]
    assert ack["Subject"] == f"[{ticket.reference}] Paiement 3X refusé"
    assert ack["Auto-Submitted"] == "auto-replied"
    assert ack["In-Reply-To"] == ticket.messages[0].email_message_id
    assert "Nous avons bien reçu votre demande" in ack.get_body(("plain",)).get_content()
    assert ack.get_body(("html",)) is not None
    assert sink.envelopes[-1][1] == ["alice@maliterie.example"]

    # The merchant's mail client answers the acknowledgement: it threads by In-Reply-To.
    _send(intake, _mail(f"Re: {ack['Subject']}", "Voici le TransID : TX-1", reply_to=ack))
    ticket = _latest_ticket()
    assert [m.body_text for m in ticket.messages][-1] == "Voici le TransID : TX-1"

    tickets.reply(ticket, world.agent, "Ajoutez Amount à la chaîne chiffrée.")
    assert outbox.deliver_due() == 1
    answer = sink.messages[-1]
    assert "Ajoutez Amount" in answer.get_body(("plain",)).get_content()
    assert "Auto-Submitted" not in answer
    assert answer["In-Reply-To"] == ticket.messages[-2].email_message_id
    assert ack["Message-ID"] in answer["References"]

    _send(
        intake,
        _mail(f"Re: {answer['Subject']}", "#fermer\nMerci, tout fonctionne.", reply_to=answer),
    )
    ticket = _latest_ticket()
    assert ticket.status is Status.CLOSED
    assert db.session.scalar(select(func.count(Ticket.id))) == 1


def test_an_oversized_message_is_refused_with_552_and_not_stored(app, world, intake) -> None:
    message = _mail("Trop gros", "x" * (70 * 1024))
    with pytest.raises(smtplib.SMTPException) as refused:
        _send(intake, message)
    assert "552" in str(refused.value)
    assert db.session.scalar(select(func.count(InboundMail.id))) == 0


def test_smtp_down_delays_mail_and_never_doubles_it(app, world) -> None:
    port = free_port()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port)  # nothing listens there yet
    ticket = tickets.open_ticket(
        world.literie,
        world.alice,
        tickets.NewTicket(subject="Question", category=tickets.Category.RUN, body="Bonjour"),
    )
    assert outbox.deliver_due() == 0
    mail = db.session.scalar(select(OutboundMail).where(OutboundMail.ticket_id == ticket.id))
    assert (mail.status, mail.attempts) == (OutboundStatus.PENDING, 1)
    assert "Connection refused" in mail.last_error or "Errno" in mail.last_error
    assert outbox.deliver_due() == 0  # not due again before its backoff

    controller, sink = start_sink(port)
    try:
        mail.next_attempt_at = mail.created_at
        db.session.commit()
        assert outbox.deliver_due() == 1
        assert outbox.deliver_due() == 0
        assert len(sink.messages) == 1
        db.session.refresh(mail)
        assert (mail.status, mail.attempts) == (OutboundStatus.SENT, 2)
    finally:
        controller.stop()


def test_a_permanent_refusal_marks_the_mail_failed(app, world) -> None:
    class Refuse:
        async def handle_RCPT(self, server, session, envelope, address, options):  # type: ignore[no-untyped-def]
            return "550 5.1.1 No such user"

    from aiosmtpd.controller import Controller

    controller = Controller(Refuse(), hostname="127.0.0.1", port=free_port())
    controller.start()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=controller.port)
    try:
        tickets.open_ticket(
            world.literie,
            world.alice,
            tickets.NewTicket(subject="Q", category=tickets.Category.RUN, body="Bonjour"),
        )
        outbox.deliver_due()
    finally:
        controller.stop()
    mail = db.session.scalars(select(OutboundMail)).one()
    assert mail.status is OutboundStatus.FAILED and "refused" in mail.last_error


def test_internal_notes_and_merchant_replies_send_no_mail(app, world) -> None:
    ticket = tickets.open_ticket(
        world.literie,
        world.alice,
        tickets.NewTicket(subject="Q", category=tickets.Category.RUN, body="Bonjour"),
    )
    tickets.reply(ticket, world.agent, "note", internal=True)
    tickets.reply(ticket, world.alice, "précision")
    kinds = db.session.scalars(select(OutboundMail.kind)).all()
    assert kinds == ["ack"]


def test_resolution_sends_one_mail_in_the_merchants_language(app, world) -> None:
    world.alice.language = "en"
    ticket = tickets.open_ticket(
        world.literie,
        world.alice,
        tickets.NewTicket(subject="Q", category=tickets.Category.RUN, body="Hello"),
    )
    tickets.update_fields(ticket, world.agent, expected_version=None, status=Status.RESOLVED)
    resolved = db.session.scalars(select(OutboundMail).where(OutboundMail.kind == "resolved")).one()
    assert "is resolved" in resolved.body_text
    assert resolved.automatic


def test_worker_processes_file_mail_in_parallel_and_survive_a_dead_worker(app, world) -> None:
    """`intake smtp --workers 2`: each mail is filed once, by another process, before its 250."""
    import os
    import signal
    from concurrent.futures import ThreadPoolExecutor

    pool = intake_smtp.WorkerPool(app, 2)
    port = free_port()
    controller = intake_smtp.controller(app, "127.0.0.1", port, pool)
    controller.start()
    try:
        mails = [_mail(f"Paiement {i} refusé", f"Code 21000005 ({i})") for i in range(8)]
        with ThreadPoolExecutor(4) as senders:
            list(senders.map(lambda message: _send(port, message), mails))
        db.session.expire_all()
        assert db.session.scalar(select(func.count(Ticket.id))) == 8
        assert db.session.scalar(select(func.count(InboundMail.id))) == 8

        # A worker killed under us (out of memory, say): the mail caught in the broken pool gets a
        # temporary failure, so its sender keeps it and tries again; a fresh pool files it.
        victim = next(iter(pool._executor._processes.values()))
        os.kill(victim.pid, signal.SIGKILL)
        victim.join(10)
        for late in (_mail("Après la panne", "Toujours refusé"), _mail("Encore", "Refusé")):
            answers = []
            for _attempt in range(3):
                try:
                    _send(port, late)
                    answers.append(250)
                    break
                except smtplib.SMTPDataError as refused:
                    answers.append(refused.smtp_code)
            assert answers in ([451, 250], [250])
        db.session.expire_all()
        assert db.session.scalar(select(func.count(Ticket.id))) == 10
    finally:
        controller.stop()
        pool.shutdown()
