"""HTTP probe of a Paygate endpoint (or any URL): status, latency, expected text, certificate.

Like blackbox_exporter's http module: one GET with a timeout, retried on a connection error or a
5xx, then judged: wrong status or missing text is down, slow or a certificate close to expiry is
degraded. Connections are kept alive per worker thread, as a browser would.
"""

from __future__ import annotations

import os
import socket
import ssl
import threading
import time
from datetime import UTC, datetime
from urllib.parse import urlsplit

import requests
from flask import current_app

from monitors.base import CheckResult, MonitorSpec

_local = threading.local()
_cert_cache: dict[tuple[str, int], tuple[float, datetime]] = {}
_cert_lock = threading.Lock()
CERT_CACHE_SECONDS = 3600.0  # a certificate changes rarely; one TLS handshake an hour is enough


def _session() -> requests.Session:
    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = requests.Session()
        session.headers["User-Agent"] = "SupportIT-monitor/1.0"
        if not any(name.lower().endswith("_proxy") for name in os.environ):
            # Without proxy settings, skip requests' scan of the environment on every probe
            # (a tenth of a probe's CPU); with them, requests keeps honouring NO_PROXY.
            session.trust_env = False
    return session


def _ca_bundle() -> str | bool:
    return current_app.config.get("MONITOR_CA_BUNDLE") or True


def certificate_expiry(host: str, port: int, timeout: float) -> datetime:
    """When the server's certificate expires (verified against the configured CAs)."""
    key = (host, port)
    now = time.monotonic()
    with _cert_lock:
        cached = _cert_cache.get(key)
    if cached and now - cached[0] < CERT_CACHE_SECONDS:
        return cached[1]
    bundle = _ca_bundle()
    context = ssl.create_default_context(cafile=bundle if isinstance(bundle, str) else None)
    with (
        socket.create_connection((host, port), timeout=timeout) as raw,
        context.wrap_socket(raw, server_hostname=host) as tls,
    ):
        not_after = tls.getpeercert()["notAfter"]  # type: ignore[index]
    expires = datetime.fromtimestamp(ssl.cert_time_to_seconds(not_after), UTC)  # type: ignore[arg-type]
    with _cert_lock:
        _cert_cache[key] = (now, expires)
    return expires


def check(monitor: MonitorSpec, at: datetime) -> CheckResult:
    url = monitor.target
    timeout = float(monitor.setting("timeout", 10))
    retries = int(monitor.setting("retries", 1))
    expected_status = monitor.setting("expected_status", [200])
    expected_status = expected_status if isinstance(expected_status, list) else [expected_status]
    expected_text = monitor.setting("expected_text", "")
    slow_ms = float(monitor.setting("latency_warn_ms", 2000))
    problem = ""
    latency = None
    for attempt in range(retries + 1):
        started = time.perf_counter()
        try:
            response = _session().get(url, timeout=timeout, verify=_ca_bundle())
            latency = (time.perf_counter() - started) * 1000
        except requests.Timeout:
            problem = f"no answer within {timeout:g} s"
        except requests.exceptions.SSLError as error:
            problem = f"TLS error: {_reason(error)}"
            break  # a bad certificate does not get better by asking again
        except requests.RequestException as error:
            problem = f"connection failed: {_reason(error)}"
        else:
            if response.status_code >= 500 and attempt < retries:
                problem = f"HTTP {response.status_code}"
            elif response.status_code not in expected_status:
                return CheckResult.down(
                    f"HTTP {response.status_code}, expected {'/'.join(map(str, expected_status))}",
                    latency,
                )
            elif expected_text and expected_text.encode() not in response.content:
                # Bytes: no charset guessing for a page that does not declare one.
                return CheckResult.down(f"the page does not contain {expected_text!r}", latency)
            else:
                return _judge(monitor, url, timeout, latency, slow_ms, response.status_code, at)
        if attempt < retries:
            time.sleep(min(0.5, timeout))
    return CheckResult.down(problem, latency)


def _judge(
    monitor: MonitorSpec,
    url: str,
    timeout: float,
    latency: float,
    slow_ms: float,
    status: int,
    at: datetime,
) -> CheckResult:
    detail = f"HTTP {status} in {latency:.0f} ms"
    parts = urlsplit(url)
    if parts.scheme == "https":
        warn_days = int(monitor.setting("cert_warn_days", 14))
        try:
            expires = certificate_expiry(parts.hostname or "", parts.port or 443, timeout)
        except (OSError, ssl.SSLError) as error:
            return CheckResult.down(f"TLS error: {_reason(error)}", latency)
        days = (expires - at).total_seconds() / 86400
        detail += f", certificate valid {days:.0f} more days"
        if days < warn_days:
            return CheckResult.degraded(
                f"certificate expires in {days:.1f} days ({expires:%Y-%m-%d})", latency
            )
    if latency > slow_ms:
        return CheckResult.degraded(f"slow: {latency:.0f} ms (over {slow_ms:.0f} ms)", latency)
    return CheckResult.up(detail, latency)


def _reason(error: BaseException) -> str:
    text = str(error.__cause__ or error) or type(error).__name__
    return text if len(text) <= 200 else text[:199] + "…"
