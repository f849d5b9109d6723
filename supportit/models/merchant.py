"""Merchants: the companies that sell with FLOA Pay, their Paygate identifiers and contacts."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
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
