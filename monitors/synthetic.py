"""Synthetic transaction: a real, encrypted server-to-server request with recette credentials.

It signs and encrypts a capture as a shop would (the Paygate toolkit), decrypts Paygate's
answer, checks its MAC and its Code, and measures the round trip. Its TransID is in the result,
so the notification monitor can check that the URLNotify callback arrived in time.
"""

from __future__ import annotations

import secrets
import time
from datetime import datetime

import requests
from flask import current_app, url_for

from monitors.base import CheckResult, MonitorSpec
from supportit.paygate import build
from supportit.paygate.inspect import inspect
from supportit.services import paygate, vault


def trans_id_for(monitor: MonitorSpec, at: datetime) -> str:
    return f"SYN{monitor.id}-{at:%Y%m%d%H%M%S}"


def notify_url(merchant_id: int) -> str:
    base = current_app.config.get("BASE_URL")
    if base:
        return f"{base.rstrip('/')}/paygate/notify/{merchant_id}"
    return url_for("paygate.notify", merchant=merchant_id, _external=True)


def check(monitor: MonitorSpec, at: datetime) -> CheckResult:
    mid = monitor.setting("mid", "")
    account = paygate.account_for_mid(mid) if mid else None
    if account is None:
        return CheckResult.down(f"no Paygate account {mid!r}: set its keys first")
    try:
        keys = paygate.keys_of(account)
    except vault.VaultError as error:
        return CheckResult.down(f"the keys of {mid} cannot be opened: {error}")
    if not keys.blowfish or not keys.hmac:
        return CheckResult.down(f"the Blowfish or HMAC key of {mid} is not set")
    trans_id = trans_id_for(monitor, at)
    params = {
        "MerchantID": mid,
        "PayID": secrets.token_hex(16),
        "TransID": trans_id,
        "Amount": str(monitor.setting("amount", 100)),
        "Currency": monitor.setting("currency", "EUR"),
    }
    if monitor.setting("notify", True):
        params["URLNotify"] = notify_url(account.merchant_id)
    body = build.envelope(build.sign_request(params, keys.hmac), keys.blowfish, mid)
    url = f"{monitor.target.rstrip('/')}/{monitor.setting('endpoint', 'capture.aspx')}"
    timeout = float(monitor.setting("timeout", 15))
    started = time.perf_counter()
    try:
        response = requests.post(url, data=body, timeout=timeout)
    except requests.Timeout:
        return CheckResult.down(f"TransID={trans_id}: no answer within {timeout:g} s")
    except requests.RequestException as error:
        return CheckResult.down(f"TransID={trans_id}: connection failed: {error}")
    latency = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        return CheckResult.down(f"TransID={trans_id}: HTTP {response.status_code}", latency)
    report = inspect(response.text, blowfish_key=keys.blowfish, hmac_key=keys.hmac)
    errors = [f for f in report.sorted_findings() if f.severity == "error" and f.code != "code"]
    if errors:
        first = errors[0]
        return CheckResult.down(
            f"TransID={trans_id}: answer refused: {first.field} {first.message.render()}", latency
        )
    code = report.code.code if report.code else "?"
    expected = monitor.setting("expected_code", "00000000")
    if code != expected:
        explained = report.code.describe() if report.code else "no Code"
        return CheckResult.down(f"TransID={trans_id}: Code {code} ({explained})", latency)
    return CheckResult.up(f"TransID={trans_id}: Code {code} in {latency:.0f} ms", latency)
