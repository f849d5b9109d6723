"""The optional second factor of agents and admins: time-based one-time codes (RFC 6238).

The secret is sealed at rest like merchants' Paygate keys. A code is accepted for its own
30-second step and the one before (a phone's clock drifts), and never twice: the last accepted
step is stored, so a code read over someone's shoulder is useless once used.
"""

from __future__ import annotations

import time

import pyotp
import segno

from supportit.db import db, utcnow
from supportit.i18n import lazy_gettext as _l
from supportit.models import User
from supportit.services import audit, vault
from supportit.services.errors import ServiceError

ISSUER = "FLOA Pay Support IT"
STEP = 30


def _purpose(user: User) -> str:
    return f"totp:{user.id}"


def new_secret() -> str:
    return pyotp.random_base32()


def seal_pending(user: User, secret: str) -> str:
    return vault.seal(secret, f"totp-pending:{user.id}")


def open_pending(user: User, sealed: str) -> str | None:
    try:
        return vault.open_sealed(sealed, f"totp-pending:{user.id}")
    except vault.VaultError:
        return None


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def qr_data_uri(uri: str) -> str:
    """The QR code as an SVG data URI (the CSP allows data: images)."""
    return segno.make(uri, error="m").svg_data_uri(scale=4, border=2)


def _step_of(secret: str, code: str, now: float) -> int | None:
    """The time step `code` belongs to (this one or the previous), or None."""
    code = "".join((code or "").split())
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    current = int(now // STEP)
    for step in (current, current - 1):
        if totp.at(step * STEP) == code:
            return step
    return None


def enable(user: User, secret: str, code: str, now: float | None = None) -> None:
    if not user.is_staff:
        raise ServiceError(_l("The second factor is for the support team's accounts."))
    step = _step_of(secret, code, now or time.time())
    if step is None:
        raise ServiceError(
            _l("This code does not match: check the phone's time and type the current code."),
            field="code",
        )
    user.totp_secret_sealed = vault.seal(secret, _purpose(user))
    user.totp_enabled_at = utcnow()
    user.totp_last_step = step
    audit.record("totp_enabled", user, commit=False)
    db.session.commit()


def verify(user: User, code: str, now: float | None = None) -> bool:
    """Check a login code; a code is good once."""
    if not user.has_second_factor:
        return False
    secret = vault.open_sealed(user.totp_secret_sealed or "", _purpose(user))
    step = _step_of(secret, code, now or time.time())
    if step is None or (user.totp_last_step is not None and step <= user.totp_last_step):
        return False
    user.totp_last_step = step
    db.session.commit()
    return True


def disable(user: User, code: str, now: float | None = None) -> None:
    if not verify(user, code, now):
        raise ServiceError(_l("This code does not match."), field="code")
    user.totp_secret_sealed = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    audit.record("totp_disabled", user, commit=False)
    db.session.commit()
