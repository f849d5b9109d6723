"""The one outbound seam to SMTP: build the message from an outbox row and hand it over."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

from flask import current_app

from supportit.db import utcnow
from supportit.models import OutboundMail


class PermanentFailure(Exception):
    """The server refused the mail for good (5xx): retrying would not help."""


def build(mail: OutboundMail) -> EmailMessage:
    config = current_app.config
    message = EmailMessage()
    message["From"] = formataddr((config["SUPPORT_NAME"], config["SUPPORT_ADDRESS"]))
    message["To"] = ", ".join(mail.to_addrs)
    if mail.cc_addrs:
        message["Cc"] = ", ".join(mail.cc_addrs)
    message["Reply-To"] = config["SUPPORT_ADDRESS"]
    message["Subject"] = mail.subject
    message["Message-ID"] = mail.message_id
    message["Date"] = format_datetime(mail.created_at or utcnow())
    if mail.in_reply_to:
        message["In-Reply-To"] = mail.in_reply_to
    if mail.references_header:
        message["References"] = mail.references_header
    if mail.automatic:
        # RFC 3834: other robots must not answer an automatic mail.
        message["Auto-Submitted"] = "auto-replied"
    # Lets intake recognise our own mail if it ever comes back, and never open a ticket for it.
    message["X-SupportIT"] = f"{mail.kind}; ticket={mail.ticket_id or '-'}"
    message.set_content(mail.body_text)
    message.add_alternative(mail.body_html, subtype="html")
    return message


def send(mail: OutboundMail) -> None:
    """Deliver over SMTP; raises PermanentFailure for 5xx answers, other errors are temporary."""
    send_message(build(mail), [*mail.to_addrs, *mail.cc_addrs])


def send_message(message: EmailMessage, recipients: list[str]) -> None:
    config = current_app.config
    host, port, timeout = config["SMTP_HOST"], config["SMTP_PORT"], config["SMTP_TIMEOUT"]
    security = config["SMTP_SECURITY"]
    context = ssl.create_default_context()
    smtp_class = smtplib.SMTP_SSL if security == "ssl" else smtplib.SMTP
    kwargs = {"context": context} if security == "ssl" else {}
    try:
        with smtp_class(host, port, timeout=timeout, **kwargs) as client:
            if security == "starttls":
                client.starttls(context=context)
            if config["SMTP_USERNAME"]:
                client.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"] or "")
            client.send_message(message, to_addrs=recipients)
    except smtplib.SMTPRecipientsRefused as error:
        raise PermanentFailure(f"recipients refused: {error.recipients}") from error
    except smtplib.SMTPResponseException as error:
        if 500 <= error.smtp_code < 600:
            raise PermanentFailure(f"{error.smtp_code} {error.smtp_error!r}") from error
        raise
