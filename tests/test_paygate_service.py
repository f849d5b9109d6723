"""Paygate in the desk: sealed merchant keys, the notification receiver, the inspector page, and
the transactions a ticket names."""

from __future__ import annotations

import html
from urllib.parse import urlencode

import pytest
from flask import Flask
from sqlalchemy import select

from supportit.db import db
from supportit.models import NotificationState, PaygateAccount, PaygateNotification
from supportit.paygate import build
from supportit.services import paygate, vault
from supportit.services.errors import ServiceError
from tests import factories
from tests.conftest import login

MID, KEY, HMAC_KEY = "maliterie_prod", "Bf7#kq2Lz9", "hmac-secret-for-tests"
PAYID = "0f4c3a2b9d8e7f6a5b4c3d2e1f0a9b8c"


@pytest.fixture
def account(world) -> PaygateAccount:
    return paygate.save_account(world.admin, world.literie, MID, "production", KEY, HMAC_KEY)


def notification(
    status: str = "OK",
    code: str = "00000000",
    trans_id: str = "CMD-2026-0042",
    key: str = KEY,
    hmac_key: str = HMAC_KEY,
    **extra: str,
) -> bytes:
    params = {
        "mid": MID,
        "PayID": PAYID,
        "XID": "X" * 32,
        "TransID": trans_id,
        "RefNr": "RF-778",
        "Status": status,
        "Code": code,
        "Description": "réussi",
        **extra,
    }
    signed = build.sign_response(params, hmac_key)
    return urlencode(build.envelope(signed, key, MID), encoding="latin-1").encode("latin-1")


def post(client, merchant_id: int, body: bytes):
    return client.post(
        f"/paygate/notify/{merchant_id}",
        data=body,
        content_type="application/x-www-form-urlencoded; charset=ISO-8859-1",
    )


# --- sealed keys ---------------------------------------------------------------------------------


def test_keys_are_sealed_and_open_only_for_their_row(app: Flask, account) -> None:
    assert KEY not in account.blowfish_key_sealed and HMAC_KEY not in account.hmac_key_sealed
    assert account.blowfish_key_sealed.startswith("v1:")
    assert paygate.keys_of(account) == paygate.Keys(KEY, HMAC_KEY)
    # A sealed value moved to another column or another MID does not open.
    with pytest.raises(vault.VaultError):
        vault.open_sealed(account.hmac_key_sealed, f"paygate:{MID}:blowfish")
    with pytest.raises(vault.VaultError):
        vault.open_sealed(account.hmac_key_sealed, "paygate:other:hmac")


def test_rotation_reseals_under_the_new_secret(app: Flask, account) -> None:
    old_id = account.key_id
    app.config["SECRET_KEY_FALLBACKS"] = [app.config["SECRET_KEY"]]
    app.config["SECRET_KEY"] = "a-brand-new-secret-for-the-rotation"
    assert paygate.keys_of(account).blowfish == KEY  # still opens through the fallback
    assert paygate.rotate_keys() == (1, [])
    assert account.key_id != old_id
    app.config["SECRET_KEY_FALLBACKS"] = []
    assert paygate.keys_of(account) == paygate.Keys(KEY, HMAC_KEY)


def test_a_lost_secret_is_reported_not_guessed(app: Flask, account) -> None:
    app.config["SECRET_KEY"] = "another-secret-without-fallback"
    with pytest.raises(vault.VaultError, match="SUPPORTIT_SECRET_KEY_FALLBACKS"):
        paygate.keys_of(account)
    assert paygate.rotate_keys() == (0, [MID])


def test_only_admins_set_keys_and_empty_keeps_them(app: Flask, world, account) -> None:
    with pytest.raises(ServiceError):
        paygate.save_account(world.agent, world.literie, "other", "production", KEY, HMAC_KEY)
    paygate.save_account(world.admin, world.literie, MID, "recette", None, "new-hmac", account)
    assert paygate.keys_of(account) == paygate.Keys(KEY, "new-hmac")
    assert account.environment == "recette"
    for mid, key, field in [("has space", KEY, "mid"), ("ok", "abc", "blowfish_key")]:
        with pytest.raises(ServiceError) as error:
            paygate.save_account(world.admin, world.literie, mid, "production", key, None)
        assert error.value.field == field
    with pytest.raises(ServiceError, match="déjà enregistré"):
        paygate.save_account(world.admin, world.soleil, MID, "production", KEY, HMAC_KEY)


def test_admin_page_never_shows_a_key_back(app: Flask, client, world, account) -> None:
    login(client, world.admin)
    listing = client.get("/admin/paygate").get_data(as_text=True)
    edit = client.get(f"/admin/paygate/{account.id}").get_data(as_text=True)
    for page in (listing, edit):
        assert MID in page and KEY not in html.unescape(page) and HMAC_KEY not in page
    response = client.post(
        "/admin/paygate",
        data={
            "merchant": world.soleil.id,
            "mid": "soleil_recette",
            "environment": "recette",
            "blowfish_key": "k" * 16,
            "hmac_key": "h",
        },
    )
    assert response.status_code == 302
    assert paygate.keys_of(paygate.account_for_mid("soleil_recette")).blowfish == "k" * 16
    refused = client.post(
        "/admin/paygate",
        data={"merchant": world.soleil.id, "mid": "x y", "environment": "recette"},
    )
    assert refused.status_code == 400 and "sans espace" in html.unescape(refused.get_data(True))
    agent = app.test_client()
    login(agent, world.agent)
    assert agent.get("/admin/paygate").status_code == 403


def test_cli_sets_lists_and_rotates_without_printing_keys(app: Flask, world) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["paygate", "keys", "set", "--merchant", "ma literie", "--mid", MID],
        env={"PAYGATE_BLOWFISH_KEY": KEY, "PAYGATE_HMAC_KEY": HMAC_KEY},
    )
    assert result.exit_code == 0, result.output
    listed = runner.invoke(args=["paygate", "keys", "list"]).output
    assert MID in listed and "blowfish=set" in listed and KEY not in listed
    assert runner.invoke(args=["paygate", "keys", "rotate"]).exit_code == 0
    assert runner.invoke(args=["paygate", "keys", "delete", MID]).exit_code == 0
    assert paygate.account_for_mid(MID) is None


# --- notifications --------------------------------------------------------------------------------


def test_notification_is_verified_stored_and_retries_are_counted(app, client, world, account):
    body = notification()
    for _ in range(3):  # Paygate retries until it gets a 200
        response = post(client, world.literie.id, body)
        assert response.status_code == 200 and response.data == b"OK\n"
    stored = db.session.scalars(select(PaygateNotification)).all()
    assert len(stored) == 1
    assert (stored[0].state, stored[0].deliveries) == (NotificationState.ACCEPTED, 3)
    assert (stored[0].pay_id, stored[0].trans_id, stored[0].code) == (
        PAYID,
        "CMD-2026-0042",
        "00000000",
    )
    assert stored[0].params["Description"] == "réussi"  # ISO-8859-1 read as such
    # A new Status or Code for the same payment is a new notification.
    assert post(client, world.literie.id, notification("FAILED", "21000005")).status_code == 200
    assert db.session.scalar(select(db.func.count(PaygateNotification.id))) == 2


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (lambda: notification(hmac_key="someone-else"), "mac_mismatch"),
        (lambda: notification(key="a-wrong-key"), "mac_mismatch"),
        (lambda: notification()[:-3], "hex_odd_length"),
        (lambda: b"MerchantID=maliterie_prod&Len=12", "no_data"),
        (lambda: notification().replace(MID.encode(), b"stranger", 1), "unknown_mid"),
        (lambda: b"\x00\xff garbage", "unknown_mid"),
    ],
)
def test_bad_notifications_are_kept_with_the_reason(app, client, world, account, body, reason):
    response = post(client, world.literie.id, body())
    assert response.status_code == 400
    assert response.data == f"REJECTED {reason}\n".encode()
    stored = db.session.scalar(select(PaygateNotification))
    assert stored.state is NotificationState.REJECTED and stored.reason_code == reason
    assert stored.body  # as received, for the agent


def test_notification_for_an_unknown_merchant_is_404(client, world) -> None:
    assert post(client, 999, notification()).status_code == 404


def test_missing_keys_answer_503_so_paygate_retries(app, client, world) -> None:
    paygate.save_account(world.admin, world.literie, MID, "production", KEY, None)
    assert post(client, world.literie.id, notification()).status_code == 503


def test_agents_see_notifications_and_ticket_transactions(app, client, world, account) -> None:
    post(client, world.literie.id, notification("FAILED", "21000005"))
    post(client, world.literie.id, notification(hmac_key="forged"))
    ticket = factories.ticket(world.alice, "Paiement refusé pour la commande CMD-2026-0042")
    other = factories.ticket(world.alice, "Question sur la commande CMD-1")
    login(client, world.agent)
    page = html.unescape(
        client.get(f"/queue/paygate/notifications?merchant={world.literie.id}").get_data(
            as_text=True
        )
    )
    assert "erreur · manquant · Amount" in page and "MAC incorrect" in page
    shown = _transactions(client, ticket)
    assert "21000005" in shown and "erreur · manquant · Amount" in shown
    assert "CMD-2026-0042" not in _transactions(client, other)
    # Another merchant's ticket naming the same TransID sees nothing.
    theirs = factories.ticket(world.bob, "Commande CMD-2026-0042")
    assert paygate.transactions_for_ticket(theirs) == []


def _transactions(client, ticket) -> str:
    page = html.unescape(client.get(f"/queue/tickets/{ticket.reference}/context").get_data(True))
    return page[page.index('data-testid="transactions"') :]


# --- the inspector page ---------------------------------------------------------------------------


def test_inspector_page_uses_stored_keys_and_attaches_a_note(app, client, world, account):
    request = build.sign_request(
        {"MerchantID": MID, "TransID": "T1", "Amount": "550.00", "Currency": "EUR"}, HMAC_KEY
    )
    paste = build.encode(build.envelope(request, KEY, MID))
    ticket = factories.ticket(world.alice, "Paygate refuse ma requête")
    login(client, world.agent)
    page = client.post("/queue/paygate/inspect", data={"raw": paste, "inspect": "1"})
    text = html.unescape(page.get_data(as_text=True))
    assert "Amount" in text and "55000 pour 550,00 EUR" in text  # decrypted with the stored key
    assert KEY not in text and HMAC_KEY not in text
    response = client.post(
        "/queue/paygate/inspect",
        data={"raw": paste, "ticket": ticket.reference, "attach": "1"},
    )
    assert response.status_code == 302
    note = ticket.messages[-1]
    assert note.internal and "ERREUR" in note.body_text and "Amount" in note.body_text
    assert KEY not in note.body_text
    missing = client.post(
        "/queue/paygate/inspect", data={"raw": paste, "ticket": "FLOA-999999", "attach": "1"}
    )
    assert "Aucun ticket n'a cette référence" in html.unescape(missing.get_data(as_text=True))


def test_inspector_is_for_staff_only(client, world) -> None:
    login(client, world.alice)
    assert client.get("/queue/paygate/inspect").status_code == 404


def test_a_huge_paste_gets_a_finding_and_is_not_echoed(client, world) -> None:
    login(client, world.agent)
    page = client.post("/queue/paygate/inspect", data={"raw": "A=" + "x" * 5_000_000})
    text = html.unescape(page.get_data(as_text=True))
    assert page.status_code == 200 and "Collez seulement la requête" in text
    assert len(text) < 100_000
