"""Mail intake throughput: ingest generated mails through the whole pipeline and print figures.

    python -m benchmarks.intake [--mails 2000] [--workers N] [--database-url sqlite:///...]

Target (issue 3): at least 200 messages/s on SQLite on a 2-core machine. `--workers` is the
number of processes filing mail, as `supportit intake smtp --workers N` runs them; it defaults
to the machine's cores, which is how the intake should be run when mail traffic is heavy.
"""

from __future__ import annotations

import sys

if not __package__:  # run as a file, benchmarks/ would come first on the import path, where
    # queue.py hides the standard library's queue module from every library that imports it
    sys.exit("Run it from the project root as a module: python -m benchmarks.intake")

import argparse
import multiprocessing
import os
import queue
import random
import resource
import tempfile
import time
from email.message import EmailMessage
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from pathlib import Path
from threading import BrokenBarrierError

from sqlalchemy import func, select

from benchmarks._common import summary
from supportit import create_app
from supportit.db import db
from supportit.intake import smtp
from supportit.models import InboundMail
from supportit.services import demo

# Seconds for a process to build its application, and for the whole run: a process that died
# or hung must end the benchmark with an error, not leave it waiting.
READY_TIMEOUT, RUN_TIMEOUT = 120, 1800

SENDERS = [
    "alice@maliterie.example",
    "bob@voyages-soleil.example",
    "dev@maliterie.example",
    "someone@unknown.example",
]


def generate(count: int, seed: int = 7) -> list[bytes]:
    rng = random.Random(seed)
    mails = []
    for i in range(count):
        message = EmailMessage()
        message["From"] = rng.choice(SENDERS)
        message["To"] = "support-it-floapay@floa.example"
        reference = f"[FLOA-{rng.randint(1, 12):06d}] " if rng.random() < 0.4 else ""
        message["Subject"] = f"{'Re: ' if reference else ''}{reference}Paiement {i} refusé"
        message["Message-ID"] = f"<bench-{i}@bench.example>"
        message.set_content(f"Bonjour,\n\nLe paiement {i} est refusé avec le Code 21000005.\n")
        if rng.random() < 0.1:
            message.add_attachment(
                b"Status=FAILED" * 50, maintype="text", subtype="plain", filename=f"log-{i}.log"
            )
        mails.append(message.as_bytes())
    return mails


def _config(tmp: str, database_url: str | None) -> dict[str, object]:
    return {
        "INSTANCE_PATH": tmp,
        "SECRET_KEY": "benchmark-secret-key-only",
        "SQLALCHEMY_DATABASE_URI": database_url or f"sqlite:///{Path(tmp) / 'b.db'}",
        "MAIL_RATE_LIMIT_PER_HOUR": 10**9,
    }


def _worker(config: dict[str, object], mails: list[bytes], ready: Barrier, results: Queue) -> None:
    """One intake process, as an `intake smtp` worker runs: its application is built before
    the clock starts, as a worker builds it once when the intake starts, not for each mail.
    Puts its peak resident KiB on `results`."""
    app = create_app(config)
    ready.wait(timeout=READY_TIMEOUT)
    for raw in mails:
        # Each mail in an application context of its own, as a worker files it: what a context
        # caches (the team's calendar, say) is paid for each mail, as in production.
        smtp.file_mail(app, raw, "sender@bench.example", ["support-it-floapay@floa.example"])
    results.put(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def _file_all(config: dict[str, object], chunks: list[list[bytes]]) -> tuple[float, list[int]]:
    """Start a process per chunk, wait until each has built its application, then time the
    filing of every mail: (seconds, peak resident KiB of each process)."""
    context = multiprocessing.get_context("fork")
    ready = context.Barrier(len(chunks) + 1)
    results = context.Queue()
    workers = [
        context.Process(target=_worker, args=(config, chunk, ready, results)) for chunk in chunks
    ]
    for worker in workers:
        worker.start()
    try:
        ready.wait(timeout=READY_TIMEOUT)
        start = time.perf_counter()
        # Peak resident memory per process, not tracemalloc: tracing every allocation slows
        # Python down several times and would make the throughput figure meaningless.
        peaks = [results.get(timeout=RUN_TIMEOUT) for _ in workers]
        elapsed = time.perf_counter() - start
    except (BrokenBarrierError, queue.Empty):
        sys.exit("an intake process died or hung: see its traceback above")
    finally:
        for worker in workers:
            worker.join(timeout=READY_TIMEOUT)
            if worker.is_alive():
                worker.kill()
    if any(worker.exitcode != 0 for worker in workers):
        sys.exit("an intake process failed: see its traceback above")
    return elapsed, peaks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mails", type=int, default=2000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="processes filing mail and sharing the database (default: one per core)",
    )
    args = parser.parse_args()
    mails = generate(args.mails)
    with tempfile.TemporaryDirectory() as tmp:
        config = _config(tmp, args.database_url)
        app = create_app(config)
        with app.app_context():
            db.drop_all()
            db.create_all()
            demo.load()
            db.session.remove()
        chunks = [mails[i :: args.workers] for i in range(args.workers)]
        elapsed, peaks = _file_all(config, chunks)
        with app.app_context():
            statuses = {
                status.value: count
                for status, count in db.session.execute(
                    select(InboundMail.status, func.count()).group_by(InboundMail.status)
                )
            }
            db.drop_all()
    peak = max(peaks)
    print(f"mails ingested      {len(mails)} by {args.workers} intake process(es)")
    print(f"outcomes            {statuses}")
    print(f"elapsed             {elapsed:.2f} s")
    print(f"throughput          {len(mails) / elapsed:.0f} messages/s (target >= 200)")
    print(f"peak resident       {peak / 1024:.0f} MiB per intake process")
    rate = len(mails) / elapsed
    summary("intake", "mail filed", rate, "messages/s", ">= 200", rate >= 200)


if __name__ == "__main__":
    main()
