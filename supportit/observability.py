"""What operators see of a running SupportIT: logs, Prometheus metrics and the proxy in front.

- Logs: one line per event, as text by default or as JSON objects (`SUPPORTIT_LOG_FORMAT=json`)
  for journald, Loki or Elasticsearch; every request adds one line with its method, endpoint,
  status, duration and request id (`X-Request-ID` from the proxy, else a new one, echoed back).
  The endpoint, never the path: paths carry password-reset and alert-link tokens.
- Metrics: request latency by endpoint here; the state of the desk (queues, outboxes, the
  scheduler's lag, monitors) is read from the database when Prometheus scrapes `/metrics`
  (supportit.web.ops), so every web worker reports the same figures.
- Proxy: behind `SUPPORTIT_PROXY_HOPS` reverse proxies, the client's address and scheme come
  from their X-Forwarded-* headers (login throttle, secure cookies, links in mail).
"""

from __future__ import annotations

import logging
import os
import time
import uuid

from flask import Flask, Response, g, request
from prometheus_client import Histogram
from pythonjsonlogger.json import JsonFormatter
from werkzeug.middleware.proxy_fix import ProxyFix

log = logging.getLogger("supportit.request")

# Buckets around the targets: pages under 50 ms, searches under 100 ms, KPIs under 500 ms.
REQUEST_SECONDS = Histogram(
    "supportit_http_request_duration_seconds",
    "Time to answer an HTTP request, by endpoint (the Flask view) and status code.",
    ["method", "endpoint", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
# Not timed: Prometheus' own scrapes and the probes of the orchestrator.
UNTIMED = {"ops.metrics", "ops.healthz", "ops.readyz", "static", "bootstrap.static"}


def init_app(app: Flask) -> None:
    hops = int(app.config.get("PROXY_HOPS", 0))
    if hops:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops
        )
    app.before_request(_start)
    app.after_request(_finish)


def configure_logging(app: Flask) -> None:
    """The processes' logging (not the tests': pytest captures logs its own way)."""
    handler = logging.StreamHandler()
    if app.config.get("LOG_FORMAT") == "json":
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            )
        )
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(app.config.get("LOG_LEVEL", "INFO"))
    # Two lines per job run, eight a second for the monitors' tick: our own lines say what
    # matters (a job failing, a leader changing).
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


def _start() -> None:
    g.request_started = time.perf_counter()
    given = request.headers.get("X-Request-ID", "")
    # A proxy's id is kept if it looks like one; anything else could forge log lines.
    g.request_id = given if given.isascii() and 0 < len(given) <= 64 else uuid.uuid4().hex


def _finish(response: Response) -> Response:
    started = g.pop("request_started", None)
    if started is None:
        return response
    elapsed = time.perf_counter() - started
    endpoint = request.endpoint or "unmatched"  # 404s: one label, not one per URL tried
    response.headers["X-Request-ID"] = g.get("request_id", "")
    if endpoint in UNTIMED:
        return response
    REQUEST_SECONDS.labels(request.method, endpoint, str(response.status_code)).observe(elapsed)
    log.info(
        "%s %s %s %.1f ms",
        request.method,
        endpoint,
        response.status_code,
        elapsed * 1000,
        extra={
            "request_id": g.get("request_id"),
            "method": request.method,
            "endpoint": endpoint,
            "status": response.status_code,
            "duration_ms": round(elapsed * 1000, 1),
            "worker_pid": os.getpid(),
        },
    )
    return response
