"""The agents' own tools: canned replies for the questions that come back, saved queue views."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, ColumnElement, ForeignKey, String, Text, or_
from sqlalchemy.orm import Mapped, mapped_column, relationship

from supportit.db import UTCDateTime, db, utcnow
from supportit.models._types import enum_column
from supportit.models.ticket import Category, Priority, Status
from supportit.models.user import User


class TeamOrPersonal:
    """What an agent keeps for themselves (`owner_id` set) or shares with the team (`owner_id`
    None): a personal one is seen and changed by its owner alone; a shared one is seen by every
    agent and changed by its author or an administrator."""

    if TYPE_CHECKING:  # the columns, mapped by each model
        owner_id: int | None
        created_by_id: int | None

    @property
    def shared(self) -> bool:
        return self.owner_id is None

    @classmethod
    def visible_to(cls, user: User) -> ColumnElement[bool]:
        return or_(cls.owner_id.is_(None), cls.owner_id == user.id)  # type: ignore[attr-defined]

    def usable_by(self, user: User) -> bool:
        return user.is_staff and (self.owner_id is None or self.owner_id == user.id)

    def editable_by(self, user: User) -> bool:
        if self.owner_id is not None:
            return self.owner_id == user.id
        return user.is_admin or self.created_by_id == user.id


class CannedReply(TeamOrPersonal, db.Model):
    """A reply template in French and English, with placeholders filled from the ticket.

    Applying it can also move the ticket (status, category, priority) and link knowledge-base
    articles, so that a common question is answered, filed and closed in one go.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    # None: shared by the whole team; else only this agent sees it.
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    body_fr: Mapped[str] = mapped_column(Text)
    body_en: Mapped[str] = mapped_column(Text, default="")
    set_status: Mapped[Status | None] = mapped_column(enum_column(Status, "canned_status"))
    set_category: Mapped[Category | None] = mapped_column(enum_column(Category, "canned_category"))
    set_priority: Mapped[Priority | None] = mapped_column(enum_column(Priority, "canned_priority"))
    # Slugs of knowledge-base articles whose links the reply carries.
    article_slugs: Mapped[list[str]] = mapped_column(JSON, default=list)
    uses: Mapped[int] = mapped_column(default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])

    def body(self, language: str) -> str:
        return self.body_en if language == "en" and self.body_en.strip() else self.body_fr


class SavedView(TeamOrPersonal, db.Model):
    """A queue filter an agent saved under a name, for themselves or for the team, shown with
    its count in the queue's sidebar."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    # None: shared by the team.
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    # The queue's query string, normalised (services.saved_views.normalise).
    query: Mapped[str] = mapped_column(String(1000))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
