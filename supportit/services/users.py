"""Accounts and logging in."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import joinedload

from supportit.db import db, utcnow
from supportit.i18n import lazy_gettext as _l
from supportit.i18n import lazy_ngettext
from supportit.models import AuditEvent, Merchant, Role, User
from supportit.services import audit, notify, second_factor
from supportit.services.errors import ServiceError

MIN_PASSWORD_LENGTH = 10


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


# Built once: each mail and each login runs it, and building it costs more than running it.
_BY_EMAIL = select(User).where(func.lower(User.email) == bindparam("email"))
# The mail intake files each mail for the sender's merchant: read with the user, it saves a
# query a mail.
_BY_EMAIL_WITH_MERCHANT = _BY_EMAIL.options(joinedload(User.merchant))


def find_by_email(email: str, *, with_merchant: bool = False) -> User | None:
    statement = _BY_EMAIL_WITH_MERCHANT if with_merchant else _BY_EMAIL
    return db.session.scalar(statement, {"email": normalise_email(email)})


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
    # With a second factor, the login is complete (and recorded) only once the code is right.
    audit.record("login_password_ok" if user.has_second_factor else "login", user)
    return user


def complete_login(user: User, code: str) -> None:
    """The second step of a login with a second factor; a wrong code counts as a failure."""
    if audit.locked_until(user.email) is not None:  # codes are throttled like passwords
        audit.record(audit.LOGIN_REFUSED, user)
        raise ServiceError(
            _l("Too many failed attempts. Log in again in a few minutes."), field="code"
        )
    if not second_factor.verify(user, code):
        audit.record(audit.LOGIN_FAILED, user, reason="second factor")
        raise ServiceError(_l("This code does not match."), field="code")
    audit.record("login", user)


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


# --- password reset ----------------------------------------------------------------------------

RESET_SALT = "password-reset"
RESET_MAX_AGE = 3600  # seconds a reset link is valid
RESET_REQUESTS_PER_HOUR = 3  # per address: a mailbox is not flooded by someone else's clicks


def _reset_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=RESET_SALT)


def request_password_reset(email: str) -> None:
    """Mail a reset link if an active account has this address; silent either way, so the
    page says the same thing for every address (no account enumeration)."""
    email = normalise_email(email or "")
    user = find_by_email(email)
    recent = db.session.scalar(
        select(func.count(AuditEvent.id)).where(
            AuditEvent.action == "password_reset_requested",
            AuditEvent.email == email,
            AuditEvent.at > utcnow() - timedelta(hours=1),
        )
    )
    audit.record("password_reset_requested", None, email=email, commit=False)
    if user is not None and user.is_active and (recent or 0) < RESET_REQUESTS_PER_HOUR:
        token = _reset_serializer().dumps({"u": user.id, "f": user.password_fingerprint})
        notify.password_reset(user, token)
    db.session.commit()


def user_for_reset(token: str) -> User:
    """The account a reset link is for; ServiceError when expired, already used or forged."""
    try:
        data = _reset_serializer().loads(token, max_age=RESET_MAX_AGE)
    except SignatureExpired:
        raise ServiceError(_l("This link has expired: ask for a new one.")) from None
    except BadSignature:
        raise ServiceError(_l("This link is not valid: ask for a new one.")) from None
    user = db.session.get(User, data.get("u")) if isinstance(data, dict) else None
    if user is None or not user.is_active or data.get("f") != user.password_fingerprint:
        raise ServiceError(_l("This link was already used: ask for a new one."))
    return user


def reset_password(token: str, password: str) -> User:
    user = user_for_reset(token)
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise ServiceError(
            _l("The password must have at least %(n)d characters.", n=MIN_PASSWORD_LENGTH),
            field="password",
        )
    user.set_password(password)  # the fingerprint changes: the link and old sessions end
    audit.record("password_reset", user, commit=False)
    db.session.commit()
    return user
