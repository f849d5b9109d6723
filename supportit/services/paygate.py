"""Paygate in the support desk: merchants' accounts and keys, the inspector with stored keys, the
notification receiver, and the transactions a ticket talks about.

The protocol itself lives in `supportit.paygate` (pure functions); this module adds what needs the
database: whose keys, which notifications, which ticket.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from supportit.db import db, utcnow
from supportit.i18n import gettext
from supportit.i18n import lazy_gettext as _l
from supportit.models import (
    Merchant,
    NotificationState,
    PaygateAccount,
    PaygateNotification,
    Ticket,
    User,
)
from supportit.paygate import crypto
from supportit.paygate.inspect import Report, inspect
from supportit.paygate.params import Params, parse_pairs
from supportit.paygate.report_text import render_text
from supportit.services import audit, tickets, vault
from supportit.services.errors import ServiceError

log = logging.getLogger(__name__)

ENVIRONMENTS = ("recette", "production")
_MID = re.compile(r"^[\x21-\x7e]{1,30}$")
BODY_LIMIT = 64 * 1024


# --- accounts and keys --------------------------------------------------------------------------


@dataclass(frozen=True)
class Keys:
    blowfish: str | None
    hmac: str | None


def _require_admin(actor: User | None) -> None:
    # None is the command line, run by the operator.
    if actor is not None and not actor.is_admin:
        raise ServiceError(_l("Only administrators manage merchants' Paygate keys."))


def _purpose(account_mid: str, which: str) -> str:
    return f"paygate:{account_mid}:{which}"


def accounts(merchant: Merchant | None = None) -> list[PaygateAccount]:
    query = select(PaygateAccount).join(Merchant).order_by(Merchant.name, PaygateAccount.mid)
    if merchant is not None:
        query = query.where(PaygateAccount.merchant_id == merchant.id)
    return list(db.session.scalars(query))


def account_for_mid(mid: str) -> PaygateAccount | None:
    return db.session.scalar(select(PaygateAccount).where(PaygateAccount.mid == mid.strip()))


def keys_of(account: PaygateAccount) -> Keys:
    """The account's keys in clear, for the inspector and the receiver only (never shown)."""
    return Keys(
        blowfish=vault.open_sealed(account.blowfish_key_sealed, _purpose(account.mid, "blowfish"))
        if account.blowfish_key_sealed
        else None,
        hmac=vault.open_sealed(account.hmac_key_sealed, _purpose(account.mid, "hmac"))
        if account.hmac_key_sealed
        else None,
    )


def save_account(
    actor: User | None,
    merchant: Merchant,
    mid: str,
    environment: str,
    blowfish_key: str | None,
    hmac_key: str | None,
    existing: PaygateAccount | None = None,
) -> PaygateAccount:
    """Create or change an account. A key left empty on a change keeps the stored one."""
    _require_admin(actor)
    mid = (mid or "").strip()
    if not _MID.match(mid):
        raise ServiceError(
            _l("A MerchantID has 1 to 30 visible characters, without spaces."), field="mid"
        )
    if environment not in ENVIRONMENTS:
        raise ServiceError(_l("Choose recette or production."), field="environment")
    other = account_for_mid(mid)
    if other is not None and other is not existing:
        raise ServiceError(
            _l(
                "The MerchantID %(mid)s is already registered for %(merchant)s.",
                mid=mid,
                merchant=other.merchant.name,
            ),
            field="mid",
        )
    if blowfish_key and not 4 <= len(blowfish_key.encode("utf-8")) <= 56:
        raise ServiceError(
            _l("A Blowfish key has 4 to 56 bytes (an AES key 16, 24 or 32)."), field="blowfish_key"
        )
    if hmac_key and len(hmac_key) > 256:
        raise ServiceError(_l("An HMAC key has at most 256 characters."), field="hmac_key")
    previous = keys_of(existing) if existing is not None else Keys(None, None)
    account = existing or PaygateAccount(merchant=merchant)
    account.merchant = merchant
    account.mid = mid
    account.environment = environment
    blowfish = blowfish_key or previous.blowfish
    hmac = hmac_key or previous.hmac
    # Both keys are sealed again, under the current secret and bound to the (maybe new) MID.
    _seal(account, blowfish, hmac)
    account.updated_at = utcnow()
    account.updated_by_id = actor.id if actor is not None else None
    db.session.add(account)
    # Which keys changed, never their values.
    audit.record(
        "paygate_keys_saved",
        actor,
        target=mid,
        commit=False,
        merchant=merchant.name,
        blowfish_changed=bool(blowfish_key),
        hmac_changed=bool(hmac_key),
    )
    db.session.commit()
    log.info("paygate account %s saved by %s", mid, actor.email if actor else "cli")
    return account


def _seal(account: PaygateAccount, blowfish: str | None, hmac: str | None) -> None:
    account.blowfish_key_sealed = (
        vault.seal(blowfish, _purpose(account.mid, "blowfish")) if blowfish else None
    )
    account.hmac_key_sealed = vault.seal(hmac, _purpose(account.mid, "hmac")) if hmac else None
    account.key_id = vault.current_key_id()


def delete_account(actor: User | None, account: PaygateAccount) -> None:
    _require_admin(actor)
    audit.record("paygate_keys_deleted", actor, target=account.mid, commit=False)
    db.session.delete(account)
    db.session.commit()


def rotate_keys() -> tuple[int, list[str]]:
    """Re-seal every account under the current secret; (re-sealed, MIDs that could not open)."""
    current = vault.current_key_id()
    done, failed = 0, []
    for account in accounts():
        if account.key_id == current:
            continue
        try:
            opened = keys_of(account)
        except vault.VaultError:
            failed.append(account.mid)
            continue
        _seal(account, opened.blowfish, opened.hmac)
        done += 1
    audit.record("paygate_keys_rotated", None, commit=False, resealed=done, failed=failed)
    db.session.commit()
    return done, failed


# --- the inspector with stored keys -------------------------------------------------------------


def inspect_paste(
    raw: str | bytes,
    account: PaygateAccount | None = None,
    blowfish_key: str | None = None,
    hmac_key: str | None = None,
) -> Report:
    """Inspect with the keys typed in, else those stored for the MerchantID found in the paste."""
    if account is None and not (blowfish_key and hmac_key):
        account = _account_named_in(raw)
    if account is not None:
        try:
            stored = keys_of(account)
        except vault.VaultError as error:
            log.warning("paygate keys of %s cannot be opened: %s", account.mid, error)
            stored = Keys(None, None)
        blowfish_key = blowfish_key or stored.blowfish
        hmac_key = hmac_key or stored.hmac
    return inspect(raw, blowfish_key=blowfish_key, hmac_key=hmac_key)


def _account_named_in(raw: str | bytes) -> PaygateAccount | None:
    text = raw.decode("latin-1") if isinstance(raw, bytes) else raw
    pairs, _ = parse_pairs(text[:4096])
    params = Params(pairs)
    mid = params.get("MerchantID") or params.get("mid")
    return account_for_mid(mid) if mid else None


def attach_report(ticket: Ticket, agent: User, report: Report) -> None:
    """The report as an internal note, in the agent's language (keys are never in a report)."""
    tickets.reply(ticket, agent, render_text(report, gettext), internal=True)


# --- notifications ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Receipt:
    notification: PaygateNotification
    http_status: int  # 200 once stored and verified; Paygate retries anything else


def receive_notification(
    merchant: Merchant, body: bytes, remote_addr: str | None = None
) -> Receipt:
    """Store one URLNotify callback: verified and idempotent, or rejected with the reason."""
    # Paygate posts ISO-8859-1. NUL cannot be stored in PostgreSQL text: it is shown as U+FFFD.
    text = _storable(body[:BODY_LIMIT].decode("latin-1"))
    outer = Params(parse_pairs(text)[0])
    mid = (outer.get("MerchantID") or outer.get("mid") or "").strip()
    account = account_for_mid(mid) if mid else None

    def reject(code: str, reason: str, params: dict[str, str] | None = None) -> Receipt:
        record = PaygateNotification(
            merchant=merchant,
            state=NotificationState.REJECTED,
            reason_code=code,
            reason=reason,
            mid=mid[:30] or None,
            params=params or {},
            body=text,
            remote_addr=remote_addr,
        )
        db.session.add(record)
        db.session.commit()
        log.warning("paygate notification for %s rejected: %s", merchant.name, code)
        return Receipt(record, 400 if code != "keys_unavailable" else 503)

    if account is None or account.merchant_id != merchant.id:
        return reject("unknown_mid", f"MerchantID {mid!r} is not one of {merchant.name}'s accounts")
    try:
        keys = keys_of(account)
    except vault.VaultError as error:
        # Our fault, not Paygate's: answer 503 so that Paygate keeps retrying.
        return reject("keys_unavailable", str(error))
    if not keys.blowfish or not keys.hmac:
        return reject("keys_unavailable", "the Blowfish or HMAC key of this account is not set")
    data, length = outer.get("Data"), outer.get("Len")
    if data is None:
        return reject("no_data", "the body has no Data parameter")
    try:
        opened = crypto.decrypt(
            data, keys.blowfish, int(length) if length and length.isdigit() else None
        )
    except crypto.CryptoError as error:
        return reject(error.code, error.message)
    plaintext = _storable(opened.plaintext.decode("latin-1"))
    params = Params(parse_pairs(plaintext)[0])
    found = params.as_dict()
    if not crypto.mac_matches(crypto.response_mac(keys.hmac, params.lowered()), params.get("MAC")):
        return reject(
            "mac_mismatch", "the MAC does not match PayID*TransID*MerchantID*Status*Code", found
        )
    pay_id, status, code = params.get("PayID"), params.get("Status"), params.get("Code")
    if not pay_id or not status or not code:
        return reject("incomplete", "PayID, Status or Code is missing", found)
    existing = _existing(merchant, pay_id, status, code)
    if existing is None:
        record = PaygateNotification(
            merchant=merchant,
            state=NotificationState.ACCEPTED,
            mid=mid,
            pay_id=pay_id[:64],
            trans_id=(params.get("TransID") or "")[:64] or None,
            ref_nr=(params.get("RefNr") or "")[:64] or None,
            paygate_status=status[:50],
            code=code[:8],
            params=found,
            body=text,
            remote_addr=remote_addr,
        )
        db.session.add(record)
        try:
            db.session.commit()
            return Receipt(record, 200)
        except IntegrityError:
            # The same retry arrived twice at once: the other request stored it.
            db.session.rollback()
            existing = _existing(merchant, pay_id, status, code)
            if existing is None:
                raise
    existing.deliveries += 1
    existing.last_received_at = utcnow()
    db.session.commit()
    return Receipt(existing, 200)


def _storable(text: str) -> str:
    return text.replace("\x00", "\ufffd")


def _existing(
    merchant: Merchant, pay_id: str, status: str, code: str
) -> PaygateNotification | None:
    return db.session.scalar(
        select(PaygateNotification).where(
            PaygateNotification.merchant_id == merchant.id,
            PaygateNotification.pay_id == pay_id[:64],
            PaygateNotification.paygate_status == status[:50],
            PaygateNotification.code == code[:8],
        )
    )


def recent_notifications(merchant: Merchant, limit: int = 50) -> list[PaygateNotification]:
    return list(
        db.session.scalars(
            select(PaygateNotification)
            .where(PaygateNotification.merchant_id == merchant.id)
            .order_by(PaygateNotification.received_at.desc(), PaygateNotification.id.desc())
            .limit(limit)
        )
    )


_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_\-]{3,63}")


def transactions_for_ticket(
    ticket: Ticket, limit: int = 20, texts: list[tuple[bool, str]] | None = None
) -> list[PaygateNotification]:
    """Notifications of the ticket's merchant whose TransID, PayID or RefNr the ticket names.
    `texts`: the ticket's message_texts(), when the caller has them already."""
    if ticket.merchant_id is None:
        return []
    texts = ticket.message_texts() if texts is None else texts
    words: Sequence[str] = [
        ticket.subject or "",
        ticket.ref_nr or "",
        ticket.trans_id or "",
        ticket.pay_id or "",
        *(body for _internal, body in texts),
    ]
    tokens = {token for text in words for token in _TOKEN.findall(text)}
    if not tokens:
        return []
    tokens_list = sorted(tokens)[:500]
    return list(
        db.session.scalars(
            select(PaygateNotification)
            .where(
                PaygateNotification.merchant_id == ticket.merchant_id,
                or_(
                    PaygateNotification.trans_id.in_(tokens_list),
                    PaygateNotification.pay_id.in_(tokens_list),
                    PaygateNotification.ref_nr.in_(tokens_list),
                ),
            )
            .order_by(PaygateNotification.received_at.desc())
            .limit(limit)
        )
    )
