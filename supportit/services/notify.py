"""Mail to merchants about their tickets, written to the outbox in the caller's transaction.

Each function inserts an OutboundMail row and does not commit: the ticket change and the mail it
causes are committed together, so a change never goes unannounced and a rollback sends nothing.
"""

from __future__ import annotations

import secrets
from contextlib import nullcontext
from email.utils import make_msgid

from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy import insert, select

from supportit.db import db
from supportit.i18n import DEFAULT_LANGUAGE, LANGUAGES
from supportit.inserts import flush_inserts
from supportit.models import Message, OutboundMail, Status, Ticket, User
from supportit.services import satisfaction

MAX_REFERENCES = 20


def ticket_opened(ticket: Ticket) -> None:
    _queue(ticket, "ack", automatic=True)


def agent_replied(ticket: Ticket, message: Message) -> None:
    # A reply that resolves the ticket carries the satisfaction survey (asked once per ticket).
    survey = satisfaction.invite(ticket) if ticket.status is Status.RESOLVED else None
    _queue(ticket, "reply", automatic=False, message=message, survey=survey)


def ticket_resolved(ticket: Ticket) -> None:
    _queue(ticket, "resolved", automatic=True, survey=satisfaction.invite(ticket))


def recipients(ticket: Ticket) -> tuple[list[str], list[str]]:
    to = ticket.requester.email if ticket.requester else ticket.requester_email
    cc = [a for a in ticket.cc_emails or [] if a != to]
    return ([to] if to else []), cc


def language_for(ticket: Ticket) -> str:
    """The language mail about this ticket is written in: the requester's, else the merchant's."""
    for candidate in (
        ticket.requester.language if ticket.requester else None,
        ticket.merchant.language if ticket.merchant else None,
    ):
        if candidate in LANGUAGES:
            return candidate
    return DEFAULT_LANGUAGE


def _thread(ticket: Ticket) -> list[str]:
    """Message-IDs of the conversation so far, oldest first, for In-Reply-To and References."""
    inbound = db.session.execute(
        select(Message.created_at, Message.email_message_id).where(
            Message.ticket_id == ticket.id, Message.email_message_id.is_not(None)
        )
    ).all()
    outbound = db.session.execute(
        select(OutboundMail.created_at, OutboundMail.message_id).where(
            OutboundMail.ticket_id == ticket.id
        )
    ).all()
    return [mid for _, mid in sorted([*inbound, *outbound], key=lambda row: row[0])]


def _queue(
    ticket: Ticket,
    kind: str,
    *,
    automatic: bool,
    message: Message | None = None,
    survey: satisfaction.Invitation | None = None,
) -> None:
    to, cc = recipients(ticket)
    if not to:
        return
    shown: Ticket | _Unnumbered
    if ticket.id is None:
        # A new ticket's conversation is what it holds in memory: no need to ask the database.
        thread = [m.email_message_id for m in ticket.messages if m.email_message_id]
        shown = _Unnumbered(ticket)
    else:
        thread = _thread(ticket)
        shown = ticket
    context = {
        "ticket": shown,
        "message": message,
        "url": public_url(f"/portal/tickets/{shown.reference}"),
        "survey": [(n, public_url(survey.path(n))) for n in satisfaction.SCORES] if survey else [],
    }
    # While a new ticket is only in memory, nothing its mail reads (a query of a template's
    # context processor, the incidents banner's in a merchant's request, or a lazy load) may
    # write it early through the ORM's flush: it is written once, below.
    rendering = db.session.no_autoflush if isinstance(shown, _Unnumbered) else nullcontext()
    with rendering:
        values = _mail(
            shown, kind, to, cc, language_for(ticket), context, automatic=automatic, thread=thread
        )
    if isinstance(shown, _Unnumbered):
        # The flush that numbers the ticket takes SQLite's write lock, held until the commit:
        # the mail is written before it, so that two intake processes do not wait for each
        # other while one renders three templates (9% more mail filed a second, in
        # benchmarks/intake.py). Plain INSERTs when the flush holds only the new ticket's rows.
        flush_inserts(db.session())
        values = shown.numbered(values)
    db.session.execute(_INSERT, values)


class _Unnumbered:
    """A new ticket as its first mail shows it before the flush that gives it its number: the
    ticket itself, but for a reference that `numbered` then replaces in the written mail.

    The stand-in is random, so a merchant's subject or text cannot contain it.
    """

    def __init__(self, ticket: Ticket) -> None:
        self._ticket = ticket
        self.reference = f"unnumbered-{secrets.token_hex(8)}"

    def __getattr__(self, name: str) -> object:
        return getattr(self._ticket, name)

    def numbered(self, values: dict[str, object]) -> dict[str, object]:
        reference = self._ticket.reference
        written = {
            key: value.replace(self.reference, reference) if isinstance(value, str) else value
            for key, value in values.items()
        }
        written["ticket_id"] = self._ticket.id
        return written


def staff_alert(ticket: Ticket, kind: str, to: list[User], **context: object) -> None:
    """A mail to agents about a ticket (an SLA warning, say), each in their own language."""
    by_language: dict[str, list[str]] = {}
    for user in to:
        language = user.language if user.language in LANGUAGES else DEFAULT_LANGUAGE
        by_language.setdefault(language, []).append(user.email)
    db.session.flush()
    for language, addresses in sorted(by_language.items()):
        full = {
            "ticket": ticket,
            "url": public_url(f"/queue/tickets/{ticket.reference}"),
            **context,
        }
        mail = _mail(ticket, kind, sorted(addresses), [], language, full, automatic=True, thread=[])
        db.session.execute(_INSERT, mail)


def password_reset(user: User, token: str) -> None:
    """The reset link, in the user's language, through the outbox like every mail."""
    language = user.language if user.language in LANGUAGES else DEFAULT_LANGUAGE
    context = {"user": user, "url": public_url(f"/password/reset/{token}")}
    mail = _mail(
        None, "password_reset", [user.email], [], language, context, automatic=True, thread=[]
    )
    db.session.execute(_INSERT, mail)


def public_url(path: str) -> str:
    """An absolute address of the site, for mail and text that leaves it."""
    return f"{current_app.config['BASE_URL']}{path}"


def _mail(
    ticket: Ticket | _Unnumbered | None,
    kind: str,
    to: list[str],
    cc: list[str],
    language: str,
    context: dict[str, object],
    *,
    automatic: bool,
    thread: list[str],
) -> dict[str, object]:
    """The outbox row of a mail: its templates rendered in `language`."""
    domain = current_app.config["SUPPORT_ADDRESS"].rpartition("@")[2]
    with force_locale(language):
        subject = render_template(f"email/{kind}.subject.txt", **context).strip()
        body_text = render_template(f"email/{kind}.txt", **context)
        body_html = render_template(f"email/{kind}.html", **context)
    return {
        "ticket_id": ticket.id if ticket else None,
        "kind": kind,
        "to_addrs": to,
        "cc_addrs": cc,
        "subject": " ".join(subject.split()),
        "message_id": make_msgid(
            idstring=f"{ticket.reference}.{kind}" if ticket else kind, domain=domain
        ),
        "in_reply_to": thread[-1] if thread else None,
        "references_header": " ".join(thread[-MAX_REFERENCES:]) or None,
        "body_text": body_text,
        "body_html": body_html,
        "automatic": automatic,
    }


# A plain insert of the table's, not an object for the session: nothing reads the row back
# before the commit, and an entity's insert would flush the session first (a new ticket's
# acknowledgement then cost a second flush, about 7% of the CPU of filing a mail).
_INSERT = insert(OutboundMail.__table__)
