"""Documentation links: the pages merchants are sent to on floapay.readme.io still answer 200."""

from __future__ import annotations

import time
from datetime import datetime

import requests

from monitors.base import CheckResult, MonitorSpec

# When the knowledge base is empty: the pages DESIGN.md names. A monitor's `urls` setting, or its
# target, replaces the knowledge base's links.
DEFAULT_URLS = [
    "https://floapay.readme.io/reference/presentation",
    "https://floapay.readme.io/reference/payment-methods",
    "https://floapay.readme.io/reference/global-workflow",
    "https://floapay.readme.io/reference/payment-page",
    "https://floapay.readme.io/reference/calculation-of-the-hmac",
    "https://floapay.readme.io/reference/capturing-payments-1",
    "https://floapay.readme.io/reference/order-cancellation",
]


def check(monitor: MonitorSpec, at: datetime) -> CheckResult:
    urls = monitor.setting("urls", None) or ([monitor.target] if monitor.target else _kb_urls())
    timeout = float(monitor.setting("timeout", 10))
    broken = []
    started = time.perf_counter()
    with requests.Session() as session:
        for url in urls:
            try:
                response = session.get(url, timeout=timeout, allow_redirects=True)
                if response.status_code != 200:
                    broken.append(f"{url} (HTTP {response.status_code})")
            except requests.RequestException as error:
                broken.append(f"{url} ({type(error).__name__})")
    latency = (time.perf_counter() - started) * 1000 / max(1, len(urls))
    if broken:
        return CheckResult.down(f"{len(broken)} of {len(urls)} links broken: " + "; ".join(broken))
    return CheckResult.up(f"{len(urls)} links answer 200", latency)


def _kb_urls() -> list[str]:
    """Every documentation page a published article sends merchants to (checks run with the
    application's context, so the knowledge base is at hand)."""
    from supportit.services import kb

    return kb.doc_urls() or DEFAULT_URLS
