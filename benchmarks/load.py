"""Load: merchants opening and answering tickets while agents work the queue, on gunicorn and
PostgreSQL, then a reconciliation of everything the clients created.

    python -m benchmarks.load [--duration 60] [--merchants 50] [--agents 7] [--workers 2]
                              [--think 2.0]
                              [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/x]

Target (issue 9): zero errors, zero tickets lost or doubled, p95 under 200 ms. Clients talk
to the JSON API with their own tokens (each merchant user its own merchant). Exit status 1 when
an error, a lost or doubled ticket or message is found, so `.ci/run` can run a short form.

Each simulated person waits between two actions a random time from half to one and a half
times --think: 2 s by default, a brisk person (a merchant writing a ticket, an agent reading
one, takes longer). Fifty merchants and seven agents then ask about 30 requests a second, a
busy day's hour compressed. A small --think (0.2) turns them into scripts that ask as fast as
the server answers: that measures how many requests a second the machine serves (printed
either way), not the latency a person sees.
"""

from __future__ import annotations

import sys

if not __package__:  # run as a file, benchmarks/ would come first on the import path, where
    # queue.py hides the standard library's queue module from every library that imports it
    sys.exit("Run it from the project root as a module: python -m benchmarks.load")

import argparse
import os
import random
import signal
import socket
import statistics
import subprocess
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import requests
from sqlalchemy import func, select

from benchmarks._common import fresh_database, summary
from supportit import create_app
from supportit.db import db
from supportit.models import Merchant, Message, Role, Ticket, User
from supportit.services import api_tokens, classification

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/supportit_load"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _prepare(url: str, instance: str, merchants: int, agents: int) -> tuple[list[str], list[str]]:
    """Schema, merchants with a user each, agents; their API tokens."""
    app = create_app({"INSTANCE_PATH": instance, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        db.create_all()
        merchant_tokens, agent_tokens = [], []
        for n in range(merchants):
            merchant = Merchant(name=f"Load merchant {n:03d}", products=["3X"])
            user = User(email=f"m{n}@load.example", name=f"Merchant {n}", role=Role.MERCHANT)
            user.merchant = merchant
            user.set_password("load-password-123")
            db.session.add_all([merchant, user])
            db.session.flush()
            merchant_tokens.append(
                api_tokens.create(user, "load", ["tickets:read", "tickets:write"])[1]
            )
        for n in range(agents):
            agent = User(email=f"a{n}@load.example", name=f"Agent {n}", role=Role.AGENT)
            agent.set_password("load-password-123")
            db.session.add(agent)
            db.session.flush()
            agent_tokens.append(api_tokens.create(agent, "load", list(api_tokens.STAFF_SCOPES))[1])
        db.session.commit()
        # As a deployment does: a stored classifier model, which each worker loads, instead
        # of every worker building one from the corpus on its first ticket.
        classification.train()
        db.engine.dispose()
    return merchant_tokens, agent_tokens


class Recorder:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.errors: Counter[str] = Counter()
        self.created: dict[str, int] = {}  # subject → messages the client sent (first included)

    def timed(self, session: requests.Session, method: str, url: str, **kwargs):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        try:
            response = session.request(method, url, timeout=30, **kwargs)
        except requests.RequestException as error:
            with self.lock:
                self.errors[type(error).__name__] += 1
            return None
        elapsed = (time.perf_counter() - started) * 1000
        with self.lock:
            self.latencies.append(elapsed)
            if response.status_code >= 400 and response.status_code != 409:
                self.errors[f"HTTP {response.status_code} {method} {url.split('/api/v1')[1]}"] += 1
        return response


def _pause(rng: random.Random, think: float) -> None:
    time.sleep(rng.uniform(0.5 * think, 1.5 * think))


def _merchant(
    base: str, token: str, until: float, record: Recorder, number: int, think: float
) -> None:
    rng = random.Random(number)
    headers = {"Authorization": f"Bearer {token}"}
    mine: list[tuple[str, str]] = []  # (reference, subject)
    count = 0
    with requests.Session() as session:
        session.headers.update(headers)
        time.sleep(rng.uniform(0, think))  # people arrive one by one, not all at the same instant
        while time.monotonic() < until:
            action = rng.random()
            if action < 0.35 or not mine:
                count += 1
                subject = f"Load {number:03d}-{count:04d} paiement 3X refusé"
                response = record.timed(
                    session,
                    "POST",
                    f"{base}/api/v1/tickets",
                    json={
                        "subject": subject,
                        "body": "Code 21000005 en recette.",
                        "category": "integration",
                    },
                )
                if response is not None and response.status_code == 201:
                    mine.append((response.json()["reference"], subject))
                    with record.lock:
                        record.created[subject] = 1
            elif action < 0.7:
                reference, subject = rng.choice(mine)
                response = record.timed(
                    session,
                    "POST",
                    f"{base}/api/v1/tickets/{reference}/messages",
                    json={"body": "Précision : TransID TX-1, PayID 42."},
                )
                if response is not None and response.status_code == 201:
                    with record.lock:
                        record.created[subject] += 1
            else:
                record.timed(session, "GET", f"{base}/api/v1/tickets?limit=20")
            _pause(rng, think)


def _agent(
    base: str, token: str, until: float, record: Recorder, number: int, think: float
) -> None:
    rng = random.Random(1000 + number)
    with requests.Session() as session:
        session.headers.update({"Authorization": f"Bearer {token}"})
        time.sleep(rng.uniform(0, think))
        while time.monotonic() < until:
            listing = record.timed(session, "GET", f"{base}/api/v1/tickets?status=new&limit=25")
            tickets = listing.json()["data"] if listing is not None and listing.ok else []
            _pause(rng, think)
            if tickets and time.monotonic() < until:
                # Read a ticket, note on it, take it: each a step of its own.
                reference = rng.choice(tickets)["reference"]
                record.timed(session, "GET", f"{base}/api/v1/tickets/{reference}")
                _pause(rng, think)
                record.timed(
                    session,
                    "POST",
                    f"{base}/api/v1/tickets/{reference}/messages",
                    json={"body": "Note : à vérifier avec le journal Paygate.", "internal": True},
                )
                _pause(rng, think)
                record.timed(
                    session,
                    "POST",
                    f"{base}/api/v1/tickets/{reference}/status",
                    json={"status": "open"},
                )
                _pause(rng, think)


def _reconcile(url: str, instance: str, record: Recorder) -> tuple[int, int, int]:
    """(tickets lost, tickets doubled, tickets whose merchant messages do not match)."""
    app = create_app({"INSTANCE_PATH": instance, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        counts = dict(
            db.session.execute(
                select(Ticket.subject, func.count(Ticket.id))
                .where(Ticket.subject.like("Load %"))
                .group_by(Ticket.subject)
            ).all()
        )
        public = dict(
            db.session.execute(
                select(Ticket.subject, func.count(Message.id))
                .join(Message, Message.ticket_id == Ticket.id)
                .where(Ticket.subject.like("Load %"), Message.internal.is_(False))
                .group_by(Ticket.subject)
            ).all()
        )
        db.engine.dispose()
    lost = sum(1 for subject in record.created if subject not in counts)
    doubled = sum(1 for n in counts.values() if n > 1)
    mismatched = sum(1 for s, sent in record.created.items() if public.get(s, 0) != sent)
    return lost, doubled, mismatched


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--merchants", type=int, default=50)
    parser.add_argument("--agents", type=int, default=7)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--think", type=float, default=2.0, help="mean seconds a person waits between actions"
    )
    parser.add_argument("--database-url", default=os.environ.get("LOAD_DATABASE_URL", DEFAULT_URL))
    args = parser.parse_args()
    if args.think < 0:
        parser.error("--think is a number of seconds, 0 or more")
    fresh_database(args.database_url)
    with tempfile.TemporaryDirectory() as instance:
        merchant_tokens, agent_tokens = _prepare(
            args.database_url, instance, args.merchants, args.agents
        )
        port = _free_port()
        env = {
            **os.environ,
            "SUPPORTIT_DATABASE_URL": args.database_url,
            "SUPPORTIT_INSTANCE_PATH": instance,
            "SUPPORTIT_API_RATE_LIMIT": "100000 per minute",
            "SUPPORTIT_ENV": "production",
            "SUPPORTIT_SECRET_KEY": "load-benchmark-secret-key-only",
            # A line per request would print thousands of lines into the report (and CI's log).
            "SUPPORTIT_LOG_LEVEL": "WARNING",
            # Read by deploy/gunicorn.conf.py.
            "BIND": f"127.0.0.1:{port}",
            "WEB_WORKERS": str(args.workers),
            "WEB_THREADS": "8",
        }
        # The production settings (deploy/gunicorn.conf.py), among them a keep-alive longer
        # than a person's pause, so that clients keep their connections as browsers do.
        server = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("gunicorn")),
                "--config",
                str(ROOT / "deploy" / "gunicorn.conf.py"),
                "--log-level",
                "warning",
                "wsgi:app",
            ],
            cwd=ROOT,
            env=env,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(100):
                try:
                    requests.get(f"{base}/login", timeout=2)
                    break
                except requests.RequestException:
                    time.sleep(0.2)
            record = Recorder()
            until = time.monotonic() + args.duration
            threads = [
                threading.Thread(target=_merchant, args=(base, t, until, record, n, args.think))
                for n, t in enumerate(merchant_tokens)
            ] + [
                threading.Thread(target=_agent, args=(base, t, until, record, n, args.think))
                for n, t in enumerate(agent_tokens)
            ]
            started = time.monotonic()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.monotonic() - started
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(30)
        lost, doubled, mismatched = _reconcile(args.database_url, instance, record)
    latencies = sorted(record.latencies)
    errors = sum(record.errors.values())

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(len(latencies) * p))] if latencies else 0

    print(
        f"{args.merchants} merchants, {args.agents} agents, {args.think:g} s between actions, "
        f"{args.duration:.0f} s, gunicorn {args.workers} workers on PostgreSQL"
    )
    print(f"requests      {len(latencies)}  ({len(latencies) / elapsed:.1f} per second)")
    print(
        f"latency       p50 {statistics.median(latencies) if latencies else 0:.1f} ms  "
        f"p95 {pct(0.95):.1f} ms  p99 {pct(0.99):.1f} ms"
    )
    print(f"errors        {errors}" + (f"  {dict(record.errors)}" if errors else ""))
    print(
        f"reconciliation  {len(record.created)} tickets created: {lost} lost, {doubled} doubled, "
        f"{mismatched} with missing or extra messages"
    )
    target = "met" if pct(0.95) < 200 else "NOT met"
    print(f"p95 target (200 ms): {target}")
    summary("load", "requests served", len(latencies) / elapsed, "per second", "", None)
    summary("load", "API latency, p95", pct(0.95), "ms", "< 200", pct(0.95) < 200)
    summary("load", "errors", errors, "requests", "= 0", errors == 0)
    summary(
        "load",
        "lost or doubled",
        lost + doubled + mismatched,
        "tickets",
        "= 0",
        not (lost or doubled or mismatched),
    )
    return 1 if errors or lost or doubled or mismatched else 0


if __name__ == "__main__":
    raise SystemExit(main())
