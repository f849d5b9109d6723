"""The Paygate stand-in: real HTTP on loopback, the protocol, the faults, and URLNotify reaching
SupportIT's receiver."""

from __future__ import annotations

import time
from collections.abc import Iterator
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from sqlalchemy import select

from supportit.db import db
from supportit.models import NotificationState, PaygateNotification
from supportit.paygate import build
from supportit.paygate.fake import Account, FakePaygate, Faults, read_answer
from supportit.paygate.inspect import inspect
from supportit.services import paygate
from tests.e2e.live import serve
from tests.http_sink import HttpSink

ACCOUNT = Account("maliterie_prod", "Bf7#kq2Lz9", "hmac-secret-for-tests")


@pytest.fixture
def fake() -> Iterator[tuple[FakePaygate, str]]:
    stand_in = FakePaygate([ACCOUNT], notify_delays=(0, 0.05, 0.05))
    url = stand_in.start()
    yield stand_in, url
    stand_in.stop()


@pytest.fixture
def sink() -> Iterator[HttpSink]:
    server = HttpSink().start()
    yield server
    server.stop()


def request(**params: str) -> dict[str, str]:
    plain = {
        "MerchantID": ACCOUNT.mid,
        "TransID": "CMD-1",
        "Amount": "55000",
        "Currency": "EUR",
        **params,
    }
    plain = {name: value for name, value in plain.items() if value != ""}
    return build.envelope(build.sign_request(plain, ACCOUNT.hmac_key), ACCOUNT.key, ACCOUNT.mid)


def wait_for(condition, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_capture_answers_an_encrypted_signed_result(fake) -> None:
    _, url = fake
    response = requests.post(f"{url}/capture.aspx", data=request(PayID="a" * 32), timeout=5)
    answer = read_answer(response.text, ACCOUNT)
    assert (answer["Status"], answer["Code"], answer["TransID"]) == ("OK", "00000000", "CMD-1")
    report = inspect(response.text, blowfish_key=ACCOUNT.key, hmac_key=ACCOUNT.hmac_key)
    assert not report.has_errors and report.kind == "response"


def test_a_faulty_request_gets_the_code_paygate_would_give(fake) -> None:
    _, url = fake
    response = requests.post(f"{url}/capture.aspx", data=request(Amount=""), timeout=5)
    assert read_answer(response.text, ACCOUNT)["Code"] == "21000005"  # error · missing · Amount
    wrong = requests.post(f"{url}/capture.aspx", data=request(Currency="EURO"), timeout=5)
    assert read_answer(wrong.text, ACCOUNT)["Code"].startswith("2")


def test_authorisation_redirects_back_to_the_shop(fake) -> None:
    _, url = fake
    response = requests.get(
        f"{url}/floapay.aspx",
        params=request(URLSuccess="https://shop.example/ok", URLFailure="https://shop.example/ko"),
        allow_redirects=False,
        timeout=5,
    )
    location = urlsplit(response.headers["Location"])
    assert response.status_code == 302 and location.netloc == "shop.example"
    answer = read_answer("&".join(f"{k}={v}" for k, v in parse_qsl(location.query)), ACCOUNT)
    assert answer["Status"] == "AUTHORIZED"


def test_probes_and_injected_faults(fake) -> None:
    stand_in, url = fake
    assert requests.get(f"{url}/floapay.aspx", timeout=5).status_code == 200  # a monitor's probe
    requests.post(
        f"{url}/_fake/faults",
        json={"fail": ["capture.aspx"], "slow": {"*": 0.3}, "bad_mac": True, "wrong_len": True},
        timeout=5,
    )
    started = time.monotonic()
    assert requests.post(f"{url}/capture.aspx", data=request(), timeout=5).status_code == 500
    assert time.monotonic() - started >= 0.3
    credit = requests.post(f"{url}/credit.aspx", data=request(PayID="b" * 32), timeout=5)
    report = inspect(credit.text, blowfish_key=ACCOUNT.key, hmac_key=ACCOUNT.hmac_key)
    found = {(f.field, f.code) for f in report.findings}
    assert ("Len", "len_mismatch") in found
    stand_in.faults = Faults()  # the run-time switch back
    assert requests.post(f"{url}/capture.aspx", data=request(), timeout=5).status_code == 200


def test_notifications_are_retried_until_200(fake, sink) -> None:
    stand_in, url = fake
    sink.answers = [500, 503]
    requests.post(f"{url}/capture.aspx", data=request(URLNotify=f"{sink.url}/notify"), timeout=5)
    wait_for(lambda: len(sink.at("/notify")) == 1)
    assert [status for _, status in stand_in.notifications_sent] == [500, 503, 200]
    body = sink.at("/notify")[0].body.decode("latin-1")
    assert read_answer(body, ACCOUNT)["Code"] == "00000000"


def test_no_notify_fault(fake, sink) -> None:
    stand_in, url = fake
    stand_in.faults = Faults(no_notify=True)
    requests.post(f"{url}/capture.aspx", data=request(URLNotify=f"{sink.url}/n"), timeout=5)
    time.sleep(0.2)
    assert sink.received == [] and stand_in.notifications_sent == []


def test_notification_reaches_supportit_over_http(app, world, fake) -> None:
    paygate.save_account(
        world.admin, world.literie, ACCOUNT.mid, "production", ACCOUNT.key, ACCOUNT.hmac_key
    )
    stand_in, url = fake
    with serve(app) as base_url:
        notify = f"{base_url}/paygate/notify/{world.literie.id}"
        requests.post(f"{url}/capture.aspx", data=request(URLNotify=notify), timeout=5)
        wait_for(lambda: stand_in.notifications_sent)
        stand_in.faults = Faults(bad_mac=True)
        requests.post(
            f"{url}/capture.aspx", data=request(TransID="CMD-2", URLNotify=notify), timeout=5
        )
        wait_for(lambda: len(stand_in.notifications_sent) >= 4)  # rejected, so retried
    db.session.expire_all()
    rows = db.session.scalars(select(PaygateNotification).order_by(PaygateNotification.id)).all()
    assert rows[0].state is NotificationState.ACCEPTED and rows[0].trans_id == "CMD-1"
    assert stand_in.notifications_sent[0][1] == 200
    assert {r.reason_code for r in rows[1:]} == {"mac_mismatch"}


def test_the_fake_command_changes_a_running_stand_in(app, fake) -> None:
    stand_in, url = fake
    port = url.rsplit(":", 1)[1]
    result = app.test_cli_runner().invoke(
        args=["paygate", "fake", "--port", port, "--fail", "floapay.aspx", "--slow", "*=0.1"]
    )
    assert result.exit_code == 0 and "now has faults" in result.output
    assert stand_in.faults.fail == {"floapay.aspx"} and stand_in.faults.slow == {"*": 0.1}
    assert requests.get(f"{url}/floapay.aspx", timeout=5).status_code == 500
