"""The SMTP front door: aiosmtpd receives, the pipeline decides. Protocol only, no meaning here."""

from __future__ import annotations

import asyncio
import logging
import signal

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from flask import Flask

from supportit.db import db
from supportit.intake import pipeline

log = logging.getLogger(__name__)


class IntakeHandler:
    def __init__(self, app: Flask) -> None:
        self.app = app

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        loop = asyncio.get_running_loop()
        try:
            # The pipeline is synchronous (SQLAlchemy); run it off the event loop.
            await loop.run_in_executor(None, self._ingest, raw, envelope)
        except Exception:
            log.exception("mail could not be stored")
            # A temporary failure: the sending server keeps the mail and tries again later.
            return "451 4.3.0 Temporary failure, please retry"
        return "250 2.0.0 Message accepted"

    def _ingest(self, raw: bytes, envelope: Envelope) -> None:
        with self.app.app_context():
            try:
                pipeline.ingest(
                    raw,
                    channel="smtp",
                    envelope_from=envelope.mail_from,
                    envelope_to=list(envelope.rcpt_tos),
                )
            finally:
                db.session.remove()


def controller(app: Flask, host: str, port: int) -> Controller:
    """An SMTP server on host:port; messages over the size limit get 552 before being stored."""
    return Controller(
        IntakeHandler(app),
        hostname=host,
        port=port,
        data_size_limit=app.config["MAIL_MAX_BYTES"],
        decode_data=False,
        server_hostname="supportit",
        ready_timeout=10,
    )


def serve_forever(app: Flask, host: str, port: int) -> None:
    server = controller(app, host, port)
    server.start()
    log.info("SMTP intake listening on %s:%s", host, port)
    stop = asyncio.Event()
    loop = asyncio.new_event_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        loop.run_until_complete(stop.wait())
    finally:
        server.stop()
        loop.close()
