"""What intake keeps of a mail: decoded text, safe HTML, attachments, threading, bounces."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from supportit.db import db
from supportit.intake import pipeline
from supportit.models import OutboundMail, OutboundStatus, Status
from tests import mail_world

FIXTURES = Path(__file__).parent / "fixtures" / "mail"


def _ingest(name: str):  # type: ignore[no-untyped-def]
    return pipeline.ingest((FIXTURES / f"{name}.eml").read_bytes(), channel="eml")


def _message(name: str):  # type: ignore[no-untyped-def]
    return _ingest(name).message


def test_french_charsets_are_decoded(app, world) -> None:
    mail_world.build(world)
    assert "550,00 €" in _message("20_latin1_quoted_printable").body_text
    assert "550 € n'est pas débité" in _message("21_iso885915_base64").body_text
    assert "“Paiement” refusé – code" in _message("22_cp1252_labelled_latin1").body_text
    assert "a été refusé à 14h" in _message("23_utf8_labelled_latin1").body_text
    assert "Café crème" in _message("24_unknown_charset").body_text


def test_encoded_subject_and_sender_name(app, world) -> None:
    mail_world.build(world)
    record = _ingest("20_latin1_quoted_printable")
    assert record.ticket.subject == "Paiement refusé"


def test_html_mail_is_sanitised_and_readable(app, world) -> None:
    mail_world.build(world)
    message = _message("25_html_only_with_script")
    assert "Le Code est 21000005." in message.body_text
    assert "alert" not in message.body_text and "color:red" not in message.body_text
    assert "<script" not in message.original_html and "onclick" not in message.original_html
    assert "<b>Code</b>" in message.original_html


def test_attachment_names_are_decoded(app, world) -> None:
    mail_world.build(world)
    names = [a.filename for a in _ingest("26_attachment_rfc2231_filename").ticket.attachments]
    assert names == ["facture été.pdf"]
    names = [a.filename for a in _ingest("27_attachment_encoded_word_filename").ticket.attachments]
    assert names == ["journal paygate réponse.log"]


def test_refused_attachment_is_noted_and_the_raw_mail_kept(app, world) -> None:
    mail_world.build(world)
    record = _ingest("28_attachment_not_allowed_exe")
    assert record.ticket.attachments == []
    assert "outil.exe not kept" in record.message.body_text
    assert b"outil.exe" in pipeline.raw_bytes(record)


def test_forwarded_message_is_attached_and_its_text_shown(app, world) -> None:
    mail_world.build(world)
    record = _ingest("30_forwarded_rfc822")
    assert [a.filename for a in record.ticket.attachments] == ["Erreur Paygate.eml"]
    assert "Code 22060200" in record.message.body_text


def test_inline_images_and_nested_parts(app, world) -> None:
    mail_world.build(world)
    assert [a.filename for a in _ingest("29_inline_image_signature").ticket.attachments] == [
        "logo.png"
    ]
    record = _ingest("31_nested_multiparts")
    assert record.message.body_text == "Texte imbriqué."
    assert [a.filename for a in record.ticket.attachments] == ["commandes.csv"]


def test_quoted_history_is_folded_but_kept(app, world) -> None:
    mail_world.build(world)
    message = _message("03_outlook_reply_fr_no_headers")
    assert "TX-88412" in message.body_text and "Envoyé : lundi" in message.body_text
    new_part, folded = message.body_html.split("<details>", 1)
    assert "TX-88412" in new_part and "Envoyé : lundi" in folded


def test_bounce_marks_the_sent_mail_and_tells_the_agents(app, world) -> None:
    mail_world.build(world)
    record = _ingest("18_bounce_dsn")
    sent = db.session.scalar(
        select(OutboundMail).where(OutboundMail.message_id == mail_world.TICKET1_REPLY)
    )
    assert sent.status is OutboundStatus.BOUNCED
    assert record.ticket_id == 1
    assert record.ticket.events[-1].action == "bounce"


def test_reply_to_a_recently_closed_ticket_reopens_it(app, world) -> None:
    known = mail_world.build(world)
    _ingest("39_reply_to_recently_closed")
    assert known[4].status is Status.OPEN


def test_reply_to_a_long_closed_ticket_opens_a_linked_one(app, world) -> None:
    known = mail_world.build(world)
    record = _ingest("40_reply_to_long_closed")
    assert known[3].status is Status.CLOSED
    assert record.ticket.linked_ticket == known[3]


def test_foreign_reference_never_reaches_the_other_merchants_ticket(app, world) -> None:
    known = mail_world.build(world)
    before = len(known[1].messages)
    record = _ingest("07_foreign_subject_reference")
    assert record.ticket.merchant == world.soleil and record.ticket != known[1]
    assert len(known[1].messages) == before


def test_unconfirmed_sender_is_attached_to_the_merchant_of_its_domain(app, world) -> None:
    mail_world.build(world)
    ticket = _ingest("10_merchant_domain_unconfirmed").ticket
    assert ticket.merchant == world.literie
    assert ticket.requester is None and ticket.requester_email == "new.person@maliterie.example"


def test_staff_mail_answers_as_an_agent(app, world) -> None:
    known = mail_world.build(world)
    _ingest("37_staff_reply_by_mail")
    assert known[1].messages[-1].author == world.agent
    assert known[1].status is Status.PENDING_MERCHANT


def test_huge_headers_are_cut_to_size(app, world) -> None:
    mail_world.build(world)
    ticket = _ingest("35_huge_header").ticket
    assert len(ticket.subject) <= 200


def test_header_edge_cases_of_french_mail() -> None:
    from supportit.intake.parse import parse

    raw = (
        b"From: =?utf-8?q?Dupont=2C_J=C3=A9r=C3=B4me?= <JD@MaLiterie.example>\r\n"
        b"To: support-it-floapay@floa.example, =?iso-8859-1?q?No=EBl?= <noel@maliterie.example>\r\n"
        b'Cc: "Martin, Zo\xc3\xa9" <zoe@maliterie.example>\r\n'
        # Unencoded 8-bit Latin-1, as old mail servers still send it.
        b"Subject: Re: probl\xe8me de remboursement\r\n"
        b"Message-ID: <a@b>\r\n"
        b"References: <one@x>\r\n <two@x>\r\n\t<three@x>\r\n"
        b"\r\nBonjour\r\n"
    )
    mail = parse(raw)
    assert (mail.from_name, mail.from_address) == ("Dupont, Jérôme", "jd@maliterie.example")
    assert mail.to == ["support-it-floapay@floa.example", "noel@maliterie.example"]
    assert mail.cc == ["zoe@maliterie.example"]
    assert mail.subject == "Re: problème de remboursement"
    assert mail.references == ["<one@x>", "<two@x>", "<three@x>"]


def test_colleagues_copied_on_a_later_reply_follow_the_ticket(app, world) -> None:
    from supportit.services import tickets

    known = mail_world.build(world)
    raw = (
        "From: Alice <alice@maliterie.example>\r\n"
        "To: support-it-floapay@floa.example\r\n"
        "Cc: compta@maliterie.example, someone@gmail.com, support-it-floapay@floa.example\r\n"
        f"In-Reply-To: {mail_world.TICKET1_REPLY}\r\n"
        "Subject: RE : [FLOA-000001] Notifications non reçues\r\n"
        "Message-ID: <cc-later@maliterie.example>\r\n"
        "\r\nJe mets la compta en copie.\r\n"
    ).encode()
    record = pipeline.ingest(raw, channel="smtp")
    ticket = known[1]
    assert record.ticket == ticket
    # Same-domain colleagues only: a stranger's address in copy gains nothing.
    assert ticket.cc_emails == ["compta@maliterie.example"]
    assert ticket.events[-1].action in {"reply", "status"}
    assert any(e.action == "cc" for e in ticket.events)
    tickets.reply(ticket, world.agent, "Bien noté.")
    sent = db.session.scalars(
        select(OutboundMail).where(OutboundMail.ticket_id == ticket.id).order_by(OutboundMail.id)
    ).all()[-1]
    assert sent.cc_addrs == ["compta@maliterie.example"]


def test_a_colleague_writing_in_follows_the_ticket(app, world) -> None:
    known = mail_world.build(world)
    raw = (
        "From: Paul <dev@maliterie.example>\r\n"
        "To: support-it-floapay@floa.example\r\n"
        f"References: {mail_world.TICKET1_ACK}\r\n"
        "Subject: Re: [FLOA-000001] Notifications non reçues\r\n"
        "Message-ID: <paul-1@maliterie.example>\r\n"
        "\r\nVoici le TransID : T-123.\r\n"
    ).encode()
    assert pipeline.ingest(raw, channel="smtp").ticket == known[1]
    assert known[1].cc_emails == ["dev@maliterie.example"]


def test_nul_bytes_in_headers_and_body_never_lose_the_mail(app, world) -> None:
    """PostgreSQL refuses NUL in text: it is dropped from what we read, the raw mail keeps it."""
    mail_world.build(world)
    raw = (
        b"From: Alice <alice@maliterie.example>\r\n"
        b"To: support-it-floapay@floa.example\r\n"
        b"Subject: Paiement\x00 refus\xc3\xa9\r\n"
        b"Message-ID: <nul\x00@maliterie.example>\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n"
        b"\r\nBonjour\x00, le paiement est refus\xc3\xa9.\r\n"
    )
    record = pipeline.ingest(raw, channel="smtp")
    assert record.status.value == "new_ticket"
    assert record.subject == "Paiement refusé"
    assert record.ticket.messages[0].body_text.startswith("Bonjour, le paiement")
    assert pipeline.raw_bytes(record) == raw
