"""The ticket classifier's trained models, and what it said about each ticket.

A model is stored whole (its scikit-learn pipeline, serialised by joblib) so every web worker and
the mail intake use the same version; `supportit classify train` adds a version and activates it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from supportit.db import UTCDateTime, db, utcnow
from supportit.models.ticket import Ticket
from supportit.models.user import User


class ClassifierModel(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # How many examples it learnt from: the corpus, and tickets agents confirmed or corrected.
    corpus_examples: Mapped[int] = mapped_column(default=0)
    confirmed_examples: Mapped[int] = mapped_column(default=0)
    # Measured on a held-out part at training time: accuracy, macro_f1, run_recall.
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    blob: Mapped[bytes] = mapped_column(LargeBinary)
    active: Mapped[bool] = mapped_column(default=False)


class TicketClassification(db.Model):
    """What the classifier said when the ticket arrived, and what an agent decided after."""

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), unique=True)
    model_version: Mapped[int]  # 0: the model built from the shipped corpus
    category: Mapped[str] = mapped_column(String(20))
    confidence: Mapped[float]
    priority: Mapped[str] = mapped_column(String(2))
    # The words that weighed most for the category, and the rules that set the priority.
    words: Mapped[list[str]] = mapped_column(JSON, default=list)
    priority_rules: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The merchant's own choice, when they made one; it is never overridden silently.
    chosen_category: Mapped[str | None] = mapped_column(String(20))
    applied: Mapped[bool] = mapped_column(default=False)  # the classifier set the category
    # An agent's decision: a correction or a confirmation. What `classify train` learns from.
    confirmed_category: Mapped[str | None] = mapped_column(String(20))
    confirmed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    ticket: Mapped[Ticket] = relationship()
    confirmed_by: Mapped[User | None] = relationship()

    @property
    def disagrees(self) -> bool:
        """The merchant chose one queue and the classifier is confident it is another."""
        from supportit.services.classification import DISAGREEMENT_CONFIDENCE

        return (
            self.chosen_category is not None
            and self.category != self.chosen_category
            and self.confidence >= DISAGREEMENT_CONFIDENCE
            and self.confirmed_category is None
        )
