"""Creating, checking and revoking API tokens.

A token is `sit_` and 40 random URL-safe characters, shown once at creation; only its SHA-256
is stored. Scopes limit what a token may do, within what its user may do anyway: a merchant's
token never sees another merchant, whatever its scopes.
"""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select

from supportit.db import db, utcnow
from supportit.i18n import lazy_gettext as _l
from supportit.models import ApiToken, User
from supportit.services import audit
from supportit.services.errors import ServiceError

PREFIX = "sit_"
MERCHANT_SCOPES = ("tickets:read", "tickets:write", "kb:read")
STAFF_SCOPES = (*MERCHANT_SCOPES, "merchants:read", "monitors:read", "oncall:read")
SCOPE_LABELS = {
    "tickets:read": _l("read tickets, messages and attachments"),
    "tickets:write": _l("open tickets, reply, change status"),
    "kb:read": _l("search the knowledge base"),
    "merchants:read": _l("read merchants (staff)"),
    "monitors:read": _l("read monitors and incidents (staff)"),
    "oncall:read": _l("see who is on call (staff)"),
}
MAX_ACTIVE_TOKENS = 20


def allowed_scopes(user: User) -> tuple[str, ...]:
    return STAFF_SCOPES if user.is_staff else MERCHANT_SCOPES


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create(user: User, name: str, scopes: list[str]) -> tuple[ApiToken, str]:
    """The new token's row and its value, which is never shown or stored again."""
    name = " ".join((name or "").split())[:100]
    if not name:
        raise ServiceError(_l("Give the token a name (what script or tool uses it)."), field="name")
    scopes = sorted(set(scopes))
    if not scopes:
        raise ServiceError(_l("Choose at least one permission."), field="scopes")
    refused = [s for s in scopes if s not in allowed_scopes(user)]
    if refused:
        raise ServiceError(
            _l("Your account cannot grant: %(scopes)s.", scopes=", ".join(refused)),
            field="scopes",
        )
    if len(tokens_of(user)) >= MAX_ACTIVE_TOKENS:
        raise ServiceError(_l("Revoke a token before creating another (20 at most)."))
    value = PREFIX + secrets.token_urlsafe(30)
    token = ApiToken(
        user_id=user.id, name=name, token_hash=_digest(value), prefix=value[:10], scopes=scopes
    )
    db.session.add(token)
    audit.record("api_token_created", user, target=token.prefix, commit=False, scopes=scopes)
    db.session.commit()
    return token, value


def tokens_of(user: User) -> list[ApiToken]:
    return list(
        db.session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
            .order_by(ApiToken.created_at.desc())
        )
    )


def revoke(user: User, token_id: int) -> None:
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise LookupError(token_id)
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        audit.record("api_token_revoked", user, target=token.prefix, commit=False)
        db.session.commit()


def authenticate(value: str) -> ApiToken | None:
    """The active token with this value, its user still active; None otherwise."""
    if not value.startswith(PREFIX) or len(value) > 100:
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(value)))
    if token is None or token.revoked_at is not None or not token.user.is_active:
        return None
    now = utcnow()
    # Written at most once a minute: a busy script does not turn reads into writes.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        token.last_used_at = now
        db.session.commit()
    return token
