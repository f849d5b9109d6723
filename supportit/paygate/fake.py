"""A Paygate stand-in for tests, demos and the monitors: it speaks the protocol on loopback.

It decrypts requests with the keys it was given, checks them with the same inspector agents use,
answers encrypted results with Codes built the way Paygate builds them (21000005 for a missing
Amount), and posts URLNotify callbacks with Paygate's retries. Faults are injected at start-up or
at run time (`POST /_fake/faults`): an endpoint failing with 500, a slow endpoint, a bad MAC, a
wrong Len, no notification.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from urllib.parse import urlencode

import requests
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

from supportit.paygate import build, crypto
from supportit.paygate.codes import PARAMETERS
from supportit.paygate.inspect import ERROR, Finding, inspect
from supportit.paygate.params import Params, parse_pairs

log = logging.getLogger(__name__)

ENDPOINTS = ("floapay.aspx", "capture.aspx", "credit.aspx", "reverse.aspx")

# Paygate's real retry schedule for URLNotify (seconds after the first attempt, DESIGN.md).
PAYGATE_RETRIES = (0, 60, 480, 1620, 3600, 7200, 12600, 20520, 30600)

# The demo merchant both the stand-in and `supportit demo load` know, so that notifications
# sent by `make run`'s stand-in are accepted by its SupportIT. Invented keys, demo only.
DEMO_ACCOUNT = ("maliterie_recette", "demo-blowfish-key", "demo-hmac-key-not-secret")
DEMO_URL = "http://127.0.0.1:5080"  # where `make run` starts it (Procfile.dev)

_NUMBERS = {name.lower(): number for number, name in PARAMETERS.items()}
# Our findings, as Paygate's checks (in the alignment of DESIGN's 21000005).
_CHECKS = {
    "missing": "100",
    "empty": "150",
    "format": "110",
    "format_amount": "110",
    "date": "110",
    "email": "110",
    "url": "110",
    "currency": "160",
    "country": "160",
    "enum": "160",
    "length": "130",
    "too_long": "140",
    "duplicate": "170",
    "len_mismatch": "110",
    "mac_mismatch": "001",
    "wrong_key": "001",
    "hex_odd_length": "001",
    "hex_invalid": "001",
    "block_size": "001",
}


@dataclass
class Faults:
    fail: set[str] = field(default_factory=set)  # endpoints answering HTTP 500
    slow: dict[str, float] = field(default_factory=dict)  # endpoint ("*" for all) -> seconds
    bad_mac: bool = False
    wrong_len: bool = False
    no_notify: bool = False

    def to_json(self) -> dict[str, object]:
        data = asdict(self)
        data["fail"] = sorted(self.fail)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> Faults:
        return cls(
            fail={str(name) for name in data.get("fail") or []},  # type: ignore[union-attr]
            slow={str(k): float(v) for k, v in (data.get("slow") or {}).items()},  # type: ignore[union-attr]
            bad_mac=bool(data.get("bad_mac")),
            wrong_len=bool(data.get("wrong_len")),
            no_notify=bool(data.get("no_notify")),
        )


@dataclass(frozen=True)
class Account:
    mid: str
    key: str
    hmac_key: str


def code_for(findings: Iterable[Finding]) -> str:
    """The Code Paygate would answer for the first error found (00000000 when there is none)."""
    for finding in findings:
        if finding.severity != ERROR:
            continue
        check = _CHECKS.get(finding.code, "120")  # 012 "invalid" for anything else
        number = _NUMBERS.get(finding.field.lower(), "0000")
        return f"2{check}{number}"
    return "00000000"


class FakePaygate:
    def __init__(
        self,
        accounts: Iterable[Account] = (Account(*DEMO_ACCOUNT),),
        faults: Faults | None = None,
        notify_delays: tuple[float, ...] = PAYGATE_RETRIES,
    ) -> None:
        self.accounts = {account.mid: account for account in accounts}
        self.faults = faults or Faults()
        self.notify_delays = notify_delays
        self.requests_seen = 0
        self.notifications_sent: list[tuple[str, int | None]] = []  # (url, HTTP status or None)
        self._lock = threading.Lock()
        self._server: BaseWSGIServer | None = None
        self._stopping = threading.Event()

    # --- HTTP ---------------------------------------------------------------------------------

    def __call__(self, environ, start_response):  # type: ignore[no-untyped-def]
        return self._respond(Request(environ))(environ, start_response)

    def _respond(self, request: Request) -> Response:
        path = request.path.strip("/")
        if path == "_fake/faults":
            if request.method == "POST":
                self.faults = Faults.from_json(request.get_json(force=True, silent=True) or {})
            return Response(json.dumps(self.faults.to_json()), mimetype="application/json")
        if path == "":
            return Response("Paygate stand-in: " + ", ".join(ENDPOINTS) + "\n")
        if path not in ENDPOINTS:
            return Response("not found\n", status=404)
        delay = self.faults.slow.get(path, self.faults.slow.get("*", 0))
        if delay:
            time.sleep(delay)
        if path in self.faults.fail:
            return Response("Internal Server Error\n", status=500)
        values = request.values  # query string or form body, as Paygate takes either
        if "Data" not in values:
            # A probe (a monitor's GET): the page answers, as Paygate's does.
            return Response(
                "<html><body>Computop Paygate stand-in</body></html>", mimetype="text/html"
            )
        with self._lock:
            self.requests_seen += 1
        return self._payment(path, {name: values[name] for name in values})

    def _payment(self, path: str, outer: dict[str, str]) -> Response:
        mid = outer.get("MerchantID", "")
        account = self.accounts.get(mid)
        if account is None:
            return Response(f"unknown MerchantID {mid}\n", status=400)
        raw = build.encode(outer)
        report = inspect(raw, blowfish_key=account.key, hmac_key=account.hmac_key)
        params = {name.lower(): value for name, value in report.params.items()}
        code = code_for(report.sorted_findings())
        success = code == "00000000"
        status = ("AUTHORIZED" if path == "floapay.aspx" else "OK") if success else "FAILED"
        answer = {
            "mid": mid,
            "PayID": params.get("payid") or uuid.uuid4().hex,
            "XID": uuid.uuid4().hex,
            "TransID": params.get("transid", ""),
            "RefNr": params.get("refnr", ""),
            "Status": status,
            "Code": code,
            "Description": "success" if success else "failed",
        }
        encrypted = self._encrypt(answer, account)
        notify_url = params.get("urlnotify")
        if notify_url and not self.faults.no_notify:
            threading.Thread(target=self._notify, args=(notify_url, encrypted), daemon=True).start()
        if path == "floapay.aspx":
            back = params.get("urlsuccess" if success else "urlfailure")
            if back:
                separator = "&" if "?" in back else "?"
                return Response(
                    status=302, headers={"Location": back + separator + urlencode(encrypted)}
                )
        return Response(build.encode(encrypted), mimetype="text/plain")

    def _encrypt(self, answer: dict[str, str], account: Account) -> dict[str, str]:
        signed = build.sign_response(answer, account.hmac_key)
        if self.faults.bad_mac:
            signed["MAC"] = crypto.mac("not-the-merchant-key", "tampered")
        encrypted = build.envelope(signed, account.key, account.mid)
        if self.faults.wrong_len:
            encrypted["Len"] = str(int(encrypted["Len"]) - 3)
        return encrypted

    # --- URLNotify ---------------------------------------------------------------------------

    def _notify(self, url: str, encrypted: dict[str, str]) -> None:
        body = urlencode(encrypted, encoding="latin-1").encode("latin-1")
        started = time.monotonic()
        for delay in self.notify_delays:
            wait = started + delay - time.monotonic()
            if wait > 0 and self._stopping.wait(wait):
                return
            try:
                response = requests.post(
                    url,
                    data=body,
                    headers={
                        "Content-Type": "application/x-www-form-urlencoded; charset=ISO-8859-1"
                    },
                    timeout=10,
                )
                status: int | None = response.status_code
            except requests.RequestException:
                status = None
            with self._lock:
                self.notifications_sent.append((url, status))
            if status == 200:
                return
        log.warning("URLNotify %s never answered 200", url)

    # --- running -----------------------------------------------------------------------------

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve in a thread; returns the base URL."""
        self._server = make_server(host, port, self, threaded=True)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return f"http://{host}:{self._server.server_port}"

    def serve_forever(self, host: str, port: int) -> None:
        self._server = make_server(host, port, self, threaded=True)
        self._server.serve_forever()

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


def read_answer(text: str, account: Account) -> dict[str, str]:
    """Decrypt an answer of the stand-in (or of Paygate) into its parameters."""
    outer = Params(parse_pairs(text)[0])
    opened = crypto.decrypt(outer.get("Data") or "", account.key, int(outer.get("Len") or 0))
    return Params(parse_pairs(opened.plaintext.decode("latin-1"))[0]).as_dict()
