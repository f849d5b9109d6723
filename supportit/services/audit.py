"""The audit log of sensitive actions (logins, roles, Paygate keys, exports), and the login
throttle that reads it: too many failures for an address lock it for a while, too many from one
client refuse that client, whatever the address, so guessing passwords does not pay."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import current_app, has_request_context, request
from sqlalchemy import func, select

from supportit.db import db, utcnow
from supportit.models import AuditEvent, User

LOGIN_FAILED = "login_failed"
LOGIN_REFUSED = "login_refused"  # refused by the throttle, password not even checked


def client_ip() -> str | None:
    # The reverse proxy's address is what Flask sees unless the deployment sets ProxyFix.
    return request.remote_addr if has_request_context() else None


def record(
    action: str,
    actor: User | None = None,
    *,
    target: str = "",
    email: str | None = None,
    commit: bool = True,
    **detail: Any,
) -> AuditEvent:
    event = AuditEvent(
        action=action,
        actor_id=actor.id if actor is not None else None,
        email=(email or (actor.email if actor is not None else None)),
        ip=client_ip(),
        target=target[:200],
        detail=detail,
        at=utcnow(),
    )
    db.session.add(event)
    if commit:
        db.session.commit()
    return event


def recent(limit: int = 200, action: str | None = None) -> list[AuditEvent]:
    statement = select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    if action:
        statement = statement.where(AuditEvent.action == action)
    return list(db.session.scalars(statement.limit(limit)))


# --- login throttle ----------------------------------------------------------------------------


def _window() -> timedelta:
    return timedelta(minutes=current_app.config["LOGIN_LOCKOUT_MINUTES"])


def locked_until(email: str, now: datetime | None = None) -> datetime | None:
    """When the address or this client may try again, or None when they may now."""
    now = now or utcnow()
    since = now - _window()
    last_success = db.session.scalar(
        select(func.max(AuditEvent.at)).where(
            AuditEvent.email == email, AuditEvent.action == "login"
        )
    )
    failures = select(AuditEvent.at).where(
        AuditEvent.action == LOGIN_FAILED, AuditEvent.at > max(since, last_success or since)
    )
    by_address = list(
        db.session.scalars(failures.where(AuditEvent.email == email).order_by(AuditEvent.at))
    )
    limit = current_app.config["LOGIN_MAX_FAILURES"]
    if len(by_address) >= limit:
        return by_address[-limit] + _window()
    ip = client_ip()
    if ip:
        by_client = list(
            db.session.scalars(
                select(AuditEvent.at)
                .where(
                    AuditEvent.action == LOGIN_FAILED,
                    AuditEvent.ip == ip,
                    AuditEvent.at > since,
                )
                .order_by(AuditEvent.at)
            )
        )
        per_client = current_app.config["LOGIN_MAX_FAILURES_PER_CLIENT"]
        if len(by_client) >= per_client:
            return by_client[-per_client] + _window()
    return None
