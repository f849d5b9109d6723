"""A real HTTP server on loopback that records what it receives: SMS, voice, chat and webhooks.

Answers 200 unless told otherwise: `sink.answers` is consumed first (a 500 then a 200, say),
so retries are exercised over real connections. `sink.delays` makes a path answer slowly, as
a provider having a bad day does.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict:  # type: ignore[type-arg]
        return json.loads(self.body)


class HttpSink:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self.answers: list[int] = []
        self.delays: dict[str, float] = {}
        self.arrived = threading.Condition()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                time.sleep(sink.delays.get(self.path, 0))
                with sink.arrived:
                    status = sink.answers.pop(0) if sink.answers else 200
                    if status < 300:
                        sink.received.append(Received(self.path, dict(self.headers), body))
                    sink.arrived.notify_all()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args: object) -> None:  # quiet test output
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> HttpSink:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def at(self, path: str) -> list[Received]:
        return [r for r in self.received if r.path == path]
