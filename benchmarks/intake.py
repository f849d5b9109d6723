"""Mail intake throughput: ingest generated mails through the whole pipeline and print figures.

    python benchmarks/intake.py [--mails 2000] [--database-url sqlite:///...]

Target (issue 3): at least 200 messages/s on SQLite on a 2-core machine.
"""

from __future__ import annotations

import argparse
import random
import resource
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path

from supportit import create_app
from supportit.db import db
from supportit.intake import pipeline
from supportit.services import demo

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mails", type=int, default=2000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {
                "INSTANCE_PATH": tmp,
                "SECRET_KEY": "benchmark-secret-key-only",
                "SQLALCHEMY_DATABASE_URI": args.database_url or f"sqlite:///{Path(tmp) / 'b.db'}",
                "MAIL_RATE_LIMIT_PER_HOUR": 10**9,
            }
        )
        mails = generate(args.mails)
        with app.app_context():
            db.drop_all()
            db.create_all()
            demo.load()
            # Peak resident memory of the process, not tracemalloc: tracing every allocation
            # slows Python down several times and would make the throughput figure meaningless.
            rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            start = time.perf_counter()
            statuses: dict[str, int] = {}
            for raw in mails:
                status = pipeline.ingest(raw, channel="eml").status.value
                statuses[status] = statuses.get(status, 0) + 1
            elapsed = time.perf_counter() - start
            rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            db.drop_all()
    print(f"mails ingested      {len(mails)}")
    print(f"outcomes            {statuses}")
    print(f"elapsed             {elapsed:.2f} s")
    print(f"throughput          {len(mails) / elapsed:.0f} messages/s (target >= 200)")
    grew = (rss_after - rss_before) / 1024
    print(f"peak resident       {rss_after / 1024:.0f} MiB (grew {grew:.0f} MiB while ingesting)")


if __name__ == "__main__":
    main()
