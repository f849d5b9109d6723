"""Accounts and logging in."""

from __future__ import annotations

import math
from datetime import datetime

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from sqlalchemy import func, select

from supportit.db import db, utcnow
from supportit.models import Merchant, Role, User
from supportit.services.errors import ServiceError

MIN_PASSWORD_LENGTH = 10


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def find_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == normalise_email(email)))


def authenticate(email: str, password: str) -> User | None:
    """The active user with this email and password, or None; records the login time."""
    user = find_by_email(email)
    if user is None or not user.is_active or not user.check_password(password):
        return None
    user.last_login_at = utcnow()
    db.session.commit()
    return user


def log_in(email: str, password: str, now: datetime | None = None) -> User:
    """Check a login attempt through the throttle, and write it in the audit log.

    Raises ServiceError: wrong email or password (one message for both: no account
    enumeration), or too many recent failures for this address or from this client.
    """
    from supportit.services import audit

    email = normalise_email(email or "")
    now = now or utcnow()
    until = audit.locked_until(email, now)
    if until is not None:
        audit.record(audit.LOGIN_REFUSED, email=email)
        minutes = max(1, math.ceil((until - now).total_seconds() / 60))
        raise ServiceError(
            lazy_ngettext(
                "Too many failed attempts for this address or from your network. "
                "Try again in %(num)d minute.",
                "Too many failed attempts for this address or from your network. "
                "Try again in %(num)d minutes.",
                minutes,
            ),
            field="password",
        )
    user = authenticate(email, password)
    if user is None:
        audit.record(audit.LOGIN_FAILED, email=email)
        raise ServiceError(_l("Wrong email or password."), field="password")
    audit.record("login", user)
    return user


def _check_new_account(email: str, password: str) -> str:
    email = normalise_email(email)
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError:
        raise ServiceError(_l("Invalid email address."), field="email") from None
    if find_by_email(email) is not None:
        raise ServiceError(_l("An account with this email already exists."), field="email")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ServiceError(
            _l("The password must have at least %(n)d characters.", n=MIN_PASSWORD_LENGTH),
            field="password",
        )
    return email


def create_staff(*, email: str, name: str, role: str, password: str) -> User:
    """A new agent or admin (the CLI); the role given is written in the audit log."""
    email = _check_new_account(email, password)
    from supportit.services import audit

    user = User(email=email, name=name.strip(), role=Role(role))
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    audit.record("role_granted", None, target=email, email=email, role=user.role.value)
    return user


def create_merchant_user(*, merchant: Merchant, email: str, name: str, password: str) -> User:
    email = _check_new_account(email, password)
    user = User(email=email, name=name.strip(), role=Role.MERCHANT, merchant=merchant)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user


def active_staff() -> list[User]:
    """Agents and admins who can work (and be told of anything), by name."""
    return list(
        db.session.scalars(
            select(User)
            .where(User.role.in_([Role.AGENT, Role.ADMIN]), User.active.is_(True))
            .order_by(User.name)
        )
    )
