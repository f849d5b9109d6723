"""Onboardings: a merchant's way from signature to go-live, step by step (DESIGN.md).

A template lists the steps (FLOA via Axepta by default; other providers have their own); each
onboarding copies them, so editing a template never changes onboardings already running. Every
change leaves an entry in the onboarding's append-only history.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from supportit.db import UTCDateTime, db, utcnow
from supportit.models._types import enum_column
from supportit.models.merchant import Merchant
from supportit.models.user import User


class OnboardingTemplate(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    is_default: Mapped[bool] = mapped_column(default=False)
    # Provider rules beyond the steps, e.g. {"min_successful_tests": 3} (Monetico).
    rules: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    steps: Mapped[list[TemplateStep]] = relationship(
        back_populates="template", cascade="all, delete-orphan", order_by="TemplateStep.position"
    )


class TemplateStep(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(
        ForeignKey("onboarding_template.id", ondelete="CASCADE")
    )
    position: Mapped[int]
    key: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    owner_team: Mapped[str] = mapped_column(String(40))
    due_business_days: Mapped[int] = mapped_column(default=2)

    template: Mapped[OnboardingTemplate] = relationship(back_populates="steps")


class OnboardingStatus(enum.StrEnum):
    ACTIVE = "active"
    LIVE = "live"
    CANCELLED = "cancelled"


class StepStatus(enum.StrEnum):
    TODO = "todo"
    IN_PROGRESS = "in_progress"
    WAITING_MERCHANT = "waiting_merchant"
    WAITING_AXEPTA = "waiting_axepta"
    DONE = "done"
    BLOCKED = "blocked"


class Onboarding(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchant.id", ondelete="CASCADE"))
    template_id: Mapped[int] = mapped_column(ForeignKey("onboarding_template.id"))
    status: Mapped[OnboardingStatus] = mapped_column(
        enum_column(OnboardingStatus, "onboarding_status"), default=OnboardingStatus.ACTIVE
    )
    products: Mapped[list[str]] = mapped_column(JSON, default=list)
    signed_on: Mapped[date]
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    live_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The Salesforce record is a stored link, no API (issue 7).
    salesforce_account_id: Mapped[str | None] = mapped_column(String(40))
    salesforce_url: Mapped[str | None] = mapped_column(String(500))
    jira_key: Mapped[str | None] = mapped_column(String(40))

    merchant: Mapped[Merchant] = relationship()
    template: Mapped[OnboardingTemplate] = relationship()
    steps: Mapped[list[OnboardingStep]] = relationship(
        back_populates="onboarding",
        cascade="all, delete-orphan",
        order_by="OnboardingStep.position",
    )
    checks: Mapped[list[RecetteCheck]] = relationship(
        back_populates="onboarding", cascade="all, delete-orphan", order_by="RecetteCheck.id"
    )
    sign_offs: Mapped[list[SignOff]] = relationship(
        back_populates="onboarding", cascade="all, delete-orphan", order_by="SignOff.id"
    )
    events: Mapped[list[OnboardingEvent]] = relationship(
        back_populates="onboarding", cascade="all, delete-orphan", order_by="OnboardingEvent.id"
    )


class OnboardingStep(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    onboarding_id: Mapped[int] = mapped_column(ForeignKey("onboarding.id", ondelete="CASCADE"))
    position: Mapped[int]
    key: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    owner_team: Mapped[str] = mapped_column(String(40))
    due_business_days: Mapped[int] = mapped_column(default=2)
    status: Mapped[StepStatus] = mapped_column(
        enum_column(StepStatus, "onboarding_step_status"), default=StepStatus.TODO
    )
    blocked_reason: Mapped[str | None] = mapped_column(String(500))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Two agents moving the same step at once: the second is told, not silently overwritten.
    version: Mapped[int] = mapped_column(default=1)

    onboarding: Mapped[Onboarding] = relationship(back_populates="steps")
    evidence: Mapped[list[StepEvidence]] = relationship(
        back_populates="step", cascade="all, delete-orphan", order_by="StepEvidence.id"
    )

    __mapper_args__ = {"version_id_col": version}


class StepEvidence(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    step_id: Mapped[int] = mapped_column(ForeignKey("onboarding_step.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    reference: Mapped[str | None] = mapped_column(String(200))
    # A file (a signed form, a screenshot of the Axepta set-up), stored like ticket attachments.
    filename: Mapped[str | None] = mapped_column(String(255))
    content_type: Mapped[str | None] = mapped_column(String(127))
    size: Mapped[int | None]
    sha256: Mapped[str | None] = mapped_column(String(64))

    step: Mapped[OnboardingStep] = relationship(back_populates="evidence")
    author: Mapped[User | None] = relationship()


class RecetteStatus(enum.StrEnum):
    TODO = "todo"
    DONE = "done"
    FAILED = "failed"


class RecetteCheck(db.Model):
    """One line of the recette checklist, for one product (3X, 4X, 1XD...)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    onboarding_id: Mapped[int] = mapped_column(ForeignKey("onboarding.id", ondelete="CASCADE"))
    product: Mapped[str] = mapped_column(String(10))
    # integration_order, score_validation, production_test, funds_received, cancellation
    item: Mapped[str] = mapped_column(String(30))
    status: Mapped[RecetteStatus] = mapped_column(
        enum_column(RecetteStatus, "recette_check_status"), default=RecetteStatus.TODO
    )
    reference: Mapped[str | None] = mapped_column(String(64))  # the merchant's order reference
    evidence: Mapped[str] = mapped_column(Text, default="")
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    automatic: Mapped[bool] = mapped_column(default=False)  # ticked from Paygate notifications

    onboarding: Mapped[Onboarding] = relationship(back_populates="checks")
    checked_by: Mapped[User | None] = relationship()

    __table_args__ = (
        UniqueConstraint("onboarding_id", "product", "item", name="uq_recette_check"),
    )


class SignOff(db.Model):
    """A team's sign-off before go-live: Score, Fraud, IT FLOA Pay, DAF, Marketing."""

    id: Mapped[int] = mapped_column(primary_key=True)
    onboarding_id: Mapped[int] = mapped_column(ForeignKey("onboarding.id", ondelete="CASCADE"))
    team: Mapped[str] = mapped_column(String(20))
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    note: Mapped[str] = mapped_column(String(500), default="")
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    onboarding: Mapped[Onboarding] = relationship(back_populates="sign_offs")
    signed_by: Mapped[User | None] = relationship()

    __table_args__ = (UniqueConstraint("onboarding_id", "team", name="uq_sign_off_team"),)


class OnboardingEvent(db.Model):
    """The onboarding's history, refusals included ("go-live refused: DAF missing")."""

    id: Mapped[int] = mapped_column(primary_key=True)
    onboarding_id: Mapped[int] = mapped_column(ForeignKey("onboarding.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    kind: Mapped[str] = mapped_column(String(30))
    detail: Mapped[str] = mapped_column(Text, default="")  # English, for exports and logs
    # What the page needs to tell the event in the reader's language (codes, not sentences).
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    onboarding: Mapped[Onboarding] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()


class JiraState(enum.StrEnum):
    PENDING = "pending"  # waiting to be created in Jira (retried until Jira answers)
    CREATED = "created"
    REFUSED = "refused"  # Jira refused the fields (400): a person must look


class JiraLink(db.Model):
    """A Jira issue for an onboarding or a ticket, and the outbox entry that creates it.

    The label is the idempotency key: before creating, the issue is searched by it, so a retry
    after an answer lost on the way back finds the issue instead of making a second one.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(80), unique=True)
    onboarding_id: Mapped[int | None] = mapped_column(
        ForeignKey("onboarding.id", ondelete="CASCADE")
    )
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"))
    state: Mapped[JiraState] = mapped_column(
        enum_column(JiraState, "jira_state"), default=JiraState.PENDING
    )
    issue_key: Mapped[str | None] = mapped_column(String(40), index=True)
    summary: Mapped[str] = mapped_column(String(250))
    description: Mapped[str] = mapped_column(Text, default="")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What came back already: comment ids seen, the last status, so nothing is told twice.
    seen_comments: Mapped[list[str]] = mapped_column(JSON, default=list)
    last_status: Mapped[str | None] = mapped_column(String(60))
