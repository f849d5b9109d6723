"""The SMTP front door: aiosmtpd receives, the pipeline decides. Protocol only, no meaning here.

With `workers` > 1 the pipeline runs in that many processes, each with its own application and
database connection: parsing and filing a mail is CPU-bound Python, so threads would share one
core. The front door stays a single asyncio process, and a mail is still answered 250 only once
a worker has committed it.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import signal
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from flask import Flask

from supportit.db import db
from supportit.intake import pipeline

log = logging.getLogger(__name__)


def file_mail(app: Flask, raw: bytes, mail_from: str | None, rcpt_tos: Sequence[str]) -> None:
    """File one mail as a worker does: in an application context of its own."""
    with app.app_context():
        try:
            pipeline.ingest(raw, channel="smtp", envelope_from=mail_from, envelope_to=rcpt_tos)
        finally:
            db.session.remove()


# The application of a worker process, built once by `_start_worker`.
_worker_app: Flask | None = None


def _start_worker(config: Mapping[str, object]) -> None:
    from supportit import create_app

    global _worker_app
    # The parent stops the workers itself once the mails in progress are filed: a Ctrl-C sent
    # to the whole process group must not kill a worker in the middle of a mail.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _worker_app = create_app(config)


def _ingest_in_worker(raw: bytes, mail_from: str | None, rcpt_tos: list[str]) -> None:
    assert _worker_app is not None, "worker started without its application"
    file_mail(_worker_app, raw, mail_from, rcpt_tos)


class WorkerPool:
    """Worker processes running the pipeline, replaced whole if one of them dies."""

    def __init__(self, app: Flask, workers: int) -> None:
        # Each worker rebuilds the application from the very settings this one runs with.
        self.config = dict(app.config)
        self.workers = workers
        self._executor = self._new_executor()

    def _new_executor(self) -> ProcessPoolExecutor:
        # Spawned, not forked: the front door already runs threads (the SMTP server's loop), and a
        # forked child could inherit a lock one of them held.
        return ProcessPoolExecutor(
            self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker,
            initargs=(self.config,),
        )

    async def ingest(self, raw: bytes, mail_from: str | None, rcpt_tos: list[str]) -> None:
        loop = asyncio.get_running_loop()
        executor = self._executor
        try:
            await loop.run_in_executor(executor, _ingest_in_worker, raw, mail_from, rcpt_tos)
        except BrokenProcessPool:
            # A worker was killed (out of memory, say): the pool cannot be used any more. Start a
            # new one for the next mails; this one gets a 451 and its sender tries again. Only
            # the event loop's thread runs this, so the first mail to notice replaces the pool
            # and those already failing with it find it replaced.
            if self._executor is executor:
                log.error("an intake worker died; starting new workers")
                self._executor = self._new_executor()
            raise

    def shutdown(self) -> None:
        self._executor.shutdown(wait=True)


class IntakeHandler:
    def __init__(self, app: Flask, pool: WorkerPool | None = None) -> None:
        self.app = app
        self.pool = pool

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        rcpt_tos = list(envelope.rcpt_tos)
        try:
            if self.pool is not None:
                await self.pool.ingest(raw, envelope.mail_from, rcpt_tos)
            else:
                # The pipeline is synchronous (SQLAlchemy); run it off the event loop.
                await asyncio.get_running_loop().run_in_executor(
                    None, file_mail, self.app, raw, envelope.mail_from, rcpt_tos
                )
        except Exception:
            log.exception("mail could not be stored")
            # A temporary failure: the sending server keeps the mail and tries again later.
            return "451 4.3.0 Temporary failure, please retry"
        return "250 2.0.0 Message accepted"


def controller(app: Flask, host: str, port: int, pool: WorkerPool | None = None) -> Controller:
    """An SMTP server on host:port; messages over the size limit get 552 before being stored."""
    return Controller(
        IntakeHandler(app, pool),
        hostname=host,
        port=port,
        data_size_limit=app.config["MAIL_MAX_BYTES"],
        decode_data=False,
        server_hostname="supportit",
        ready_timeout=10,
    )


def serve_forever(app: Flask, host: str, port: int, workers: int = 1) -> None:
    pool = WorkerPool(app, workers) if workers > 1 else None
    server = controller(app, host, port, pool)
    server.start()
    log.info("SMTP intake listening on %s:%s with %s worker(s)", host, port, workers)
    stop = asyncio.Event()
    loop = asyncio.new_event_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        loop.run_until_complete(stop.wait())
    finally:
        server.stop()
        if pool is not None:
            pool.shutdown()  # the mails being filed are finished first
        loop.close()
