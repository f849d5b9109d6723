"""Delivers alert notifications (SMS, voice, mail, signed webhooks, chat), with retries.

Rows are written by `alerts` in the same transaction as the alert step; this worker claims a
row with a conditional UPDATE (two workers never send the same page), delivers it and records
the outcome in the alert's timeline. Pages retry quickly: an engineer woken late is a failure.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid

import requests
from flask import current_app

from supportit import mailer
from supportit.db import db, utcnow
from supportit.models import AlertEvent, Notification, NotificationChannel, NotificationStatus
from supportit.services.outbox import Queue

log = logging.getLogger(__name__)

# Seconds to wait after each failed attempt; after the last, the notification has failed.
BACKOFF_SECONDS = (5, 15, 30, 60, 120, 300, 600, 1200)
CLAIM_TIMEOUT = timedelta(minutes=2)
SIGNATURE_HEADER = "X-SupportIT-Signature"


class PermanentFailure(Exception):
    """The provider refused for good (a 4xx): retrying would not help."""


NOTIFICATIONS = Queue(
    Notification, NotificationStatus.PENDING, NotificationStatus.SENDING, CLAIM_TIMEOUT
)


def due_ids(limit: int = 100) -> list[int]:
    return NOTIFICATIONS.due_ids(limit)


def deliver_one(notification_id: int) -> bool:
    if not NOTIFICATIONS.claim(notification_id):
        return False
    notification = db.session.get(Notification, notification_id)
    try:
        send(notification)
    except PermanentFailure as error:
        _failed(notification, str(error), permanent=True)
        return False
    except Exception as error:  # network, timeouts, 5xx: try again soon
        _failed(notification, f"{type(error).__name__}: {error}", permanent=False)
        return False
    now = utcnow()
    notification.status = NotificationStatus.SENT
    notification.sent_at = now
    notification.attempts += 1
    notification.last_error = None
    _timeline(notification, "delivered", None, now)
    db.session.commit()
    return True


def _failed(notification: Notification, error: str, *, permanent: bool) -> None:
    now = utcnow()
    notification.attempts += 1
    notification.last_error = error[:2000]
    if permanent or notification.attempts > len(BACKOFF_SECONDS):
        notification.status = NotificationStatus.FAILED
        _timeline(notification, "delivery_failed", error[:500], now)
        log.error("notification %s to %s failed: %s", notification.id, notification.address, error)
    else:
        notification.status = NotificationStatus.PENDING
        wait = BACKOFF_SECONDS[notification.attempts - 1]
        notification.next_attempt_at = now + timedelta(seconds=wait)
        _timeline(notification, "retrying", error[:500], now)
        log.warning("notification %s will be retried: %s", notification.id, error)
    db.session.commit()


def _timeline(notification: Notification, action: str, detail: str | None, now: datetime) -> None:
    db.session.add(
        AlertEvent(
            alert_id=notification.alert_id,
            action=action,
            detail=detail or notification.kind,
            channel=notification.channel.value,
            recipient=notification.address,
            at=now,
        )
    )


def deliver_due() -> int:
    """One pass over the due notifications; returns how many were delivered.

    Several at once, each in its own thread and session: a provider that answers slowly (or
    times out after NOTIFY_HTTP_TIMEOUT) must not hold back the pages behind it.
    """
    ids = due_ids()
    workers = min(current_app.config["NOTIFY_WORKERS"], len(ids))
    if workers <= 1:
        return sum(deliver_one(notification_id) for notification_id in ids)
    app = current_app._get_current_object()  # type: ignore[attr-defined]

    def deliver(notification_id: int) -> bool:
        with app.app_context():
            try:
                return deliver_one(notification_id)
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="notify") as pool:
        return sum(pool.map(deliver, ids))


# --- channels --------------------------------------------------------------------------------


def send(notification: Notification) -> None:
    channel = notification.channel
    config = current_app.config
    if channel is NotificationChannel.MAIL:
        mailer.send_message(_mail(notification), [notification.address])
    elif channel is NotificationChannel.SMS:
        _provider(config["SMS_PROVIDER_URL"], config["SMS_PROVIDER_TOKEN"], notification)
    elif channel is NotificationChannel.VOICE:
        _provider(config["VOICE_PROVIDER_URL"], config["VOICE_PROVIDER_TOKEN"], notification)
    elif channel is NotificationChannel.CHAT:
        _post(notification.address, json.dumps({"text": notification.text}).encode(), {})
    else:
        body = json.dumps(notification.payload, sort_keys=True).encode()
        _post(notification.address, body, sign(body))


def _provider(url: str | None, token: str | None, notification: Notification) -> None:
    if not url:
        raise PermanentFailure(f"no {notification.channel.value} provider is configured")
    body = json.dumps(
        {"to": notification.address, "text": notification.text, "reference": notification.key}
    ).encode()
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    _post(url, body, headers)


def sign(body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """Headers that let a receiver check a webhook came from us, recently (replay window).

    The signature is HMAC-SHA256 over "<timestamp>.<body>" with the shared secret.
    """
    secret = current_app.config["WEBHOOK_SIGNING_SECRET"] or current_app.config["SECRET_KEY"]
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return {SIGNATURE_HEADER: f"t={timestamp},v1={digest.hexdigest()}"}


_http = threading.local()


def _session() -> requests.Session:
    """One HTTP session per worker thread: connections to a provider are kept and reused."""
    if not hasattr(_http, "session"):
        _http.session = requests.Session()
    return _http.session


def _post(url: str, body: bytes, headers: dict[str, str]) -> None:
    response = _session().post(
        url,
        data=body,
        headers={"Content-Type": "application/json", "User-Agent": "SupportIT", **headers},
        timeout=current_app.config["NOTIFY_HTTP_TIMEOUT"],
        allow_redirects=False,
    )
    if 200 <= response.status_code < 300:
        return
    message = f"HTTP {response.status_code}: {response.text[:300]}"
    if 400 <= response.status_code < 500 and response.status_code not in (408, 429):
        raise PermanentFailure(message)
    raise RuntimeError(message)


def _mail(notification: Notification) -> EmailMessage:
    config = current_app.config
    message = EmailMessage()
    message["From"] = formataddr((config["SUPPORT_NAME"], config["SUPPORT_ADDRESS"]))
    message["To"] = notification.address
    message["Subject"] = notification.subject
    message["Date"] = format_datetime(utcnow())
    domain = config["SUPPORT_ADDRESS"].rpartition("@")[2]
    message["Message-ID"] = make_msgid(idstring=f"alert{notification.alert_id}", domain=domain)
    message["Auto-Submitted"] = "auto-generated"
    # Intake recognises our own mail by this header if it ever comes back.
    message["X-SupportIT"] = f"alert; alert={notification.alert_id}"
    message.set_content(notification.text)
    return message
