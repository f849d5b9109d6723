"""Alert throughput and paging latency: alerts through routing and the outbox to a webhook.

    python -m benchmarks.alerts [--alerts 1000] [--rate 0] [--database-url sqlite:///...]

Half the alerts repeat a key that is already open (deduplicated: no page). Each new alert pages
the on-call engineer through a webhook contact method; a separate outbox worker process
(`supportit outbox run`, as in production) delivers to a local HTTP sink. Prints alerts per
second and the latency from raising an alert to its page reaching the sink (p50, p99).

Target (issue 4): p99 under 1 s.
"""

from __future__ import annotations

import sys

if not __package__:  # run as a file, benchmarks/ would come first on the import path, where
    # queue.py hides the standard library's queue module from every library that imports it
    sys.exit("Run it from the project root as a module: python -m benchmarks.alerts")

import argparse
import json
import multiprocessing
import statistics
import tempfile
import threading
import time
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from benchmarks._common import summary
from supportit import create_app
from supportit.db import db
from supportit.models import Role, User
from supportit.services import alerts, oncall, outbox


class Sink:
    """Records when each alert's page arrives."""

    def __init__(self) -> None:
        self.arrived: dict[int, float] = {}
        self.lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as SMS and chat providers offer

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                alert_id = json.loads(body)["alert"]["id"]
                with sink.lock:
                    sink.arrived.setdefault(alert_id, time.time())
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/page"


def _config(tmp: str, database_url: str | None) -> dict[str, object]:
    return {
        "INSTANCE_PATH": tmp,
        "SECRET_KEY": "benchmark-secret-key-only",
        "SQLALCHEMY_DATABASE_URI": database_url or f"sqlite:///{Path(tmp) / 'alerts.db'}",
        "WEBHOOK_SIGNING_SECRET": "benchmark",
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
    }


def _worker(config: dict[str, object], stop: multiprocessing.synchronize.Event) -> None:
    """The outbox worker's loop, as `supportit outbox run` runs it (0.5 s between idle passes)."""
    app = create_app(config)
    with app.app_context():
        while not stop.is_set():
            sent = outbox.deliver_due()
            db.session.remove()
            if not sent:
                time.sleep(0.5)


def _last_sunday_night() -> datetime:
    """A recent instant outside business hours: alerts page the on-call engineer."""
    today = datetime.now(UTC).date()
    sunday = today - timedelta(days=(today.weekday() + 1) % 7 or 7)
    return datetime.combine(sunday, datetime.min.time(), tzinfo=UTC) + timedelta(hours=2)


def _setup(sink: Sink) -> None:
    db.drop_all()
    db.create_all()
    engineer = User(email="astreinte@floa.example", name="Astreinte", role=Role.AGENT)
    engineer.set_password("benchmark-password")
    db.session.add(engineer)
    db.session.commit()
    oncall.save_rotation("primaire", layer=1, members=[engineer.email], start_date=date(2026, 1, 5))
    oncall.set_contact_methods(engineer, [("webhook", sink.url)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=1000)
    parser.add_argument(
        "--rate", type=float, default=0, help="alerts per second to raise (0: as fast as possible)"
    )
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    sink = Sink()
    night = _last_sunday_night()
    with tempfile.TemporaryDirectory() as tmp:
        config = _config(tmp, args.database_url)
        app = create_app(config)
        with app.app_context():
            _setup(sink)
            db.session.remove()
        stop = multiprocessing.get_context("fork").Event()
        worker = multiprocessing.get_context("fork").Process(target=_worker, args=(config, stop))
        worker.start()
        raised_at: dict[int, float] = {}
        created = 0
        with app.app_context():
            start = time.perf_counter()
            for i in range(args.alerts):
                # Every other alert repeats the key of the one before it: deduplicated.
                key = f"monitor:{i - i % 2}"
                result = alerts.raise_alert(key, f"Sonde {key} en échec", now=night)
                if result.created:
                    raised_at[result.alert.id] = time.time()
                    created += 1
                db.session.remove()
                if args.rate:
                    time.sleep(max(0.0, (i + 1) / args.rate - (time.perf_counter() - start)))
            elapsed = time.perf_counter() - start
        deadline = time.time() + 60
        while len(sink.arrived) < created and time.time() < deadline:
            time.sleep(0.05)
        stop.set()
        worker.join(timeout=10)
        with app.app_context():
            db.drop_all()
    latencies = sorted(sink.arrived[i] - raised_at[i] for i in raised_at if i in sink.arrived)
    repeats = args.alerts - created
    print(f"alerts raised       {args.alerts} ({created} new, {repeats} deduplicated)")
    print(f"raising             {args.alerts / elapsed:.0f} alerts/s")
    print(f"pages delivered     {len(latencies)} of {created} (never twice: one per new alert)")
    if latencies:
        p50 = statistics.median(latencies)
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
        print(f"alert -> page p50   {p50 * 1000:.0f} ms")
        print(f"alert -> page p99   {p99 * 1000:.0f} ms (target < 1000 ms)")
        summary("alerts", "alert to page, p99", p99 * 1000, "ms", "< 1000", p99 < 1)
    summary(
        "alerts",
        "pages delivered",
        len(latencies),
        "pages",
        f"= {created}",
        len(latencies) == created,
    )


if __name__ == "__main__":
    main()
