"""Merchants: the companies that sell with FLOA Pay, their Paygate identifiers and contacts."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from supportit.db import UTCDateTime, db, utcnow
from supportit.models._types import enum_column


class MerchantEnvironment(enum.StrEnum):
    """Where the merchant stands in the integration process (DESIGN.md)."""

    RECETTE = "recette"
    PRODUCTION = "production"


class Merchant(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    country: Mapped[str] = mapped_column(String(2), default="FR")
    language: Mapped[str] = mapped_column(String(5), default="fr")
    environment: Mapped[MerchantEnvironment] = mapped_column(
        enum_column(MerchantEnvironment, "merchant_environment"),
        default=MerchantEnvironment.RECETTE,
    )
    # FLOA product codes (3X, 4X, 1XD...): a short list always read whole, so JSON fits.
    products: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    identifiers: Mapped[list[MerchantIdentifier]] = relationship(
        back_populates="merchant", cascade="all, delete-orphan", order_by="MerchantIdentifier.id"
    )
    contacts: Mapped[list[Contact]] = relationship(
        back_populates="merchant", cascade="all, delete-orphan", order_by="Contact.id"
    )
    paygate_accounts: Mapped[list[PaygateAccount]] = relationship(
        back_populates="merchant", cascade="all, delete-orphan", order_by="PaygateAccount.mid"
    )

    def __repr__(self) -> str:
        return f"<Merchant {self.id} {self.name!r}>"

    @property
    def mids(self) -> list[MerchantIdentifier]:
        return [i for i in self.identifiers if i.kind == "MID"]

    @property
    def msids(self) -> list[MerchantIdentifier]:
        return [i for i in self.identifiers if i.kind == "MSID"]


class MerchantIdentifier(db.Model):
    """A Computop MerchantID (MID) or a FLOA merchant site ID (MSID)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchant.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(4))  # "MID" or "MSID"
    value: Mapped[str] = mapped_column(String(64))
    environment: Mapped[str] = mapped_column(String(16), default="production")
    label: Mapped[str | None] = mapped_column(String(120))

    merchant: Mapped[Merchant] = relationship(back_populates="identifiers")

    __table_args__ = (
        db.UniqueConstraint("kind", "value", name="uq_merchant_identifier_kind_value"),
        db.CheckConstraint("kind IN ('MID', 'MSID')", name="kind"),
    )


class Contact(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchant.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    role: Mapped[str | None] = mapped_column(String(80))

    merchant: Mapped[Merchant] = relationship(back_populates="contacts")


class PaygateAccount(db.Model):
    """A merchant's Computop MerchantID with its keys, sealed (AES-GCM) under the app's secret.

    The keys are never read back to a page or a log: only the inspector and the notification
    receiver open them, in memory. `key_id` names the secret that sealed them, so a rotation
    knows which rows are still under an old secret.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchant.id", ondelete="CASCADE"))
    mid: Mapped[str] = mapped_column(String(30), unique=True)
    environment: Mapped[str] = mapped_column(String(16), default="production")
    blowfish_key_sealed: Mapped[str | None] = mapped_column(Text)
    hmac_key_sealed: Mapped[str | None] = mapped_column(Text)
    key_id: Mapped[str | None] = mapped_column(String(16))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )

    merchant: Mapped[Merchant] = relationship(back_populates="paygate_accounts")

    __table_args__ = (
        db.CheckConstraint("environment IN ('recette', 'production')", name="environment"),
    )

    def __repr__(self) -> str:
        return f"<PaygateAccount {self.mid!r}>"
