"""Accounts and logging in."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
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
    email = _check_new_account(email, password)
    user = User(email=email, name=name.strip(), role=Role(role))
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
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
