"""Fetching from an existing mailbox over IMAP (Exchange, Gmail, Dovecot): poll, ingest, move.

Each message is ingested, then moved to the processed folder; a message is never deleted, and
one that could not be stored stays in the inbox for the next poll. Every poll records its
outcome, so agents see an alert when fetching fails instead of days of silence.
"""

from __future__ import annotations

import contextlib
import imaplib
import logging
import re
import ssl
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select

from supportit.db import db, utcnow
from supportit.intake import pipeline
from supportit.models import MailboxStatus

log = logging.getLogger(__name__)
_UID_RE = re.compile(rb"UID (\d+)")


@dataclass(frozen=True)
class Mailbox:
    host: str
    port: int
    username: str
    password: str
    folder: str = "INBOX"
    processed_folder: str = "SupportIT-Processed"
    security: str = "ssl"  # ssl, starttls or none
    cafile: str | None = None  # a private CA (tests, internal servers); None: the system's
    timeout: int = 30

    @property
    def name(self) -> str:
        return f"{self.username}@{self.host}/{self.folder}"

    @classmethod
    def from_config(cls) -> Mailbox:
        config = current_app.config
        if not config.get("IMAP_HOST") or not config.get("IMAP_USERNAME"):
            raise ValueError("set SUPPORTIT_IMAP_HOST, SUPPORTIT_IMAP_USERNAME and _PASSWORD")
        return cls(
            host=config["IMAP_HOST"],
            port=config["IMAP_PORT"],
            username=config["IMAP_USERNAME"],
            password=config["IMAP_PASSWORD"] or "",
            folder=config["IMAP_FOLDER"],
            processed_folder=config["IMAP_PROCESSED_FOLDER"],
            security=config["IMAP_SECURITY"],
            cafile=config["IMAP_CAFILE"],
        )


def _connect(box: Mailbox) -> imaplib.IMAP4:
    context = ssl.create_default_context(cafile=box.cafile)
    if box.security == "ssl":
        return imaplib.IMAP4_SSL(box.host, box.port, ssl_context=context, timeout=box.timeout)
    client = imaplib.IMAP4(box.host, box.port, timeout=box.timeout)
    if box.security == "starttls":
        client.starttls(ssl_context=context)
    return client


def _check(result: tuple[str, list], what: str) -> list:
    status, data = result
    if status != "OK":
        raise imaplib.IMAP4.error(f"{what}: {status} {data!r}")
    return data


def _move(client: imaplib.IMAP4, uid: bytes, folder: str) -> None:
    if "MOVE" in client.capabilities:
        _check(client.uid("MOVE", uid, folder), "MOVE")
        return
    # Without MOVE: copy first, and only then flag and expunge the original.
    _check(client.uid("COPY", uid, folder), "COPY")
    _check(client.uid("STORE", uid, "+FLAGS", "(\\Deleted)"), "STORE")
    _check(client.expunge(), "EXPUNGE")


def fetch_once(box: Mailbox) -> int:
    """One poll of the mailbox; returns how many messages were ingested and moved."""
    moved = 0
    try:
        client = _connect(box)
        try:
            _check(client.login(box.username, box.password), "LOGIN")
            client.create(box.processed_folder)  # "already exists" is fine
            _check(client.select(box.folder), f"SELECT {box.folder}")
            uids = _check(client.uid("SEARCH", None, "ALL"), "SEARCH")[0].split()
            for uid in uids:
                data = _check(client.uid("FETCH", uid, "(BODY.PEEK[])"), "FETCH")
                raw = next((part[1] for part in data if isinstance(part, tuple)), None)
                if raw is None:
                    continue
                try:
                    pipeline.ingest(raw, channel="imap")
                except Exception:
                    db.session.rollback()
                    log.exception("message %s of %s could not be stored", uid, box.name)
                    continue  # left in the inbox: the next poll tries again
                _move(client, uid, box.processed_folder)
                moved += 1
        finally:
            with contextlib.suppress(imaplib.IMAP4.error, OSError):
                client.logout()
    except (imaplib.IMAP4.error, OSError, ssl.SSLError) as error:
        _record(box, moved, error=f"{type(error).__name__}: {error}")
        raise
    _record(box, moved)
    return moved


def _record(box: Mailbox, moved: int, error: str | None = None) -> None:
    status = db.session.scalar(select(MailboxStatus).where(MailboxStatus.name == box.name))
    if status is None:
        status = MailboxStatus(name=box.name, fetched_total=0)
        db.session.add(status)
    status.fetched_total += moved
    if error is None:
        status.last_success_at = utcnow()
    else:
        status.last_error_at = utcnow()
        status.last_error = error[:2000]
    db.session.commit()
