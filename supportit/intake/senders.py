"""Who wrote a mail: a known user, someone from a known merchant's domain, or a stranger."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, func, select, union

from supportit.db import db
from supportit.models import Contact, Merchant, TicketFlag, User
from supportit.services.users import find_by_email

# Addresses at these providers say nothing about which company a person works for.
PUBLIC_MAIL_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "outlook.fr",
        "hotmail.com",
        "hotmail.fr",
        "live.com",
        "live.fr",
        "msn.com",
        "yahoo.com",
        "yahoo.fr",
        "icloud.com",
        "me.com",
        "orange.fr",
        "wanadoo.fr",
        "free.fr",
        "sfr.fr",
        "laposte.net",
        "gmx.fr",
        "gmx.com",
        "proton.me",
        "protonmail.com",
        "aol.com",
        "bbox.fr",
    }
)


@dataclass(frozen=True)
class Sender:
    user: User | None
    merchant: Merchant | None
    flag: TicketFlag | None


UNKNOWN = Sender(None, None, TicketFlag.SENDER_UNKNOWN)


def identify(address: str) -> Sender:
    user = find_by_email(address, with_merchant=True)
    if user is not None and user.is_active:
        return Sender(user, user.merchant, None)
    merchant = merchant_for_domain(address.rpartition("@")[2])
    if merchant is not None:
        return Sender(None, merchant, TicketFlag.SENDER_UNCONFIRMED)
    return Sender(None, None, TicketFlag.SENDER_UNKNOWN)


def merchant_for_domain(domain: str) -> Merchant | None:
    """The one merchant whose users or contacts write from `domain`; None if none or several."""
    domain = domain.lower()
    if not domain or domain in PUBLIC_MAIL_DOMAINS:
        return None
    ids = set(db.session.scalars(_MERCHANTS_OF_DOMAIN, {"pattern": "%@" + domain}))
    return db.session.get(Merchant, ids.pop()) if len(ids) == 1 else None


# One round trip for both places an address can be known from. Built once: every mail from an
# unknown address runs it, and building it costs more than running it.
_MERCHANTS_OF_DOMAIN = union(
    select(User.merchant_id).where(
        func.lower(User.email).like(bindparam("pattern")), User.merchant_id.is_not(None)
    ),
    select(Contact.merchant_id).where(func.lower(Contact.email).like(bindparam("pattern"))),
)
