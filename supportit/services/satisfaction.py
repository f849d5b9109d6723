"""Satisfaction: on a ticket's first resolution the merchant is asked, once, to rate it from 1
to 5 with an optional comment, by a link per score in the mail and on the portal's page.

A mail link carries a secret of its own (stored hashed): it rates one ticket and nothing else,
without signing in. Rating is final; a comment can follow the score once.
"""

from __future__ import annotations

import hashlib
import secrets
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from supportit.db import db, utcnow
from supportit.i18n import lazy_gettext as _l
from supportit.models import Category, SatisfactionSurvey, Ticket, User
from supportit.services.errors import ServiceError

SCORES = (1, 2, 3, 4, 5)
MAX_COMMENT = 2000


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Invitation:
    """What the resolution mail shows: one link per score."""

    token: str

    def path(self, score: int) -> str:
        return f"/rate/{self.token}?score={score}"


def invite(ticket: Ticket) -> Invitation | None:
    """Open the ticket's survey on its first resolution; None if it was asked already (once per
    ticket, however often it is reopened and resolved). No commit: part of the resolution."""
    if ticket.id is None:
        db.session.flush()
    if db.session.scalar(
        select(SatisfactionSurvey.id).where(SatisfactionSurvey.ticket_id == ticket.id)
    ):
        return None
    _, token = _open(ticket)
    return Invitation(token)


def _open(ticket: Ticket) -> tuple[SatisfactionSurvey, str]:
    """A new survey for the ticket, and the secret its links carry."""
    token = secrets.token_urlsafe(24)
    survey = SatisfactionSurvey(
        ticket_id=ticket.id,
        token_hash=_hash(token),
        agent_id=ticket.assignee_id,
        category=ticket.category,
        sent_at=utcnow(),
    )
    db.session.add(survey)
    return survey, token


def by_token(token: str) -> SatisfactionSurvey | None:
    if not token or len(token) > 100:
        return None
    return db.session.scalar(
        select(SatisfactionSurvey).where(SatisfactionSurvey.token_hash == _hash(token))
    )


def for_ticket(ticket: Ticket) -> SatisfactionSurvey | None:
    return db.session.scalar(
        select(SatisfactionSurvey).where(SatisfactionSurvey.ticket_id == ticket.id)
    )


def can_rate(ticket: Ticket, user: User | None) -> bool:
    """The portal offers the rating: a resolved ticket of the merchant's, not rated yet."""
    return _rateable(ticket, user, for_ticket(ticket))


def _rateable(ticket: Ticket, user: User | None, survey: SatisfactionSurvey | None) -> bool:
    if user is None or not user.is_merchant or user.merchant_id != ticket.merchant_id:
        return False
    return not ticket.status.is_active and (survey is None or survey.score is None)


def _score(value: object) -> int:
    try:
        score = int(str(value))
    except ValueError:
        score = 0
    if score not in SCORES:
        raise ServiceError(_l("Choose a score from 1 to 5."), field="score")
    return score


def _comment(text: str | None) -> str | None:
    text = (text or "").strip()
    if len(text) > MAX_COMMENT:
        raise ServiceError(
            _l("The comment is too long (%(max)d characters at most).", max=MAX_COMMENT),
            field="comment",
        )
    return text or None


def rate(survey: SatisfactionSurvey, score: object, comment: str | None = None) -> bool:
    """Record the merchant's score (and comment). Returns False when the ticket was rated
    already: the first rating stands."""
    value, text = _score(score), _comment(comment)
    if survey.score is not None:
        return False
    survey.score = value
    survey.comment = text
    survey.rated_at = utcnow()
    db.session.commit()
    return True


def add_comment(survey: SatisfactionSurvey, comment: str | None) -> bool:
    """The comment that may follow a one-click score; once."""
    text = _comment(comment)
    if survey.score is None or survey.comment or not text:
        return False
    survey.comment = text
    db.session.commit()
    return True


def rate_in_portal(ticket: Ticket, user: User, score: object, comment: str | None) -> None:
    """The merchant rates from the ticket's page (the survey is opened then if no mail did)."""
    survey = for_ticket(ticket)
    if not _rateable(ticket, user, survey):
        raise ServiceError(_l("This ticket cannot be rated (again)."))
    if survey is None:
        survey, _ = _open(ticket)
    rate(survey, score, comment)


# --- KPIs ------------------------------------------------------------------------------------


@dataclass
class Score:
    asked: int = 0
    rated: int = 0
    total: int = 0

    @property
    def average(self) -> float | None:
        return round(self.total / self.rated, 2) if self.rated else None

    @property
    def response_percent(self) -> float | None:
        return round(100 * self.rated / self.asked, 1) if self.asked else None


def scores(
    since: datetime,
    until: datetime,
    *,
    category: Category | None = None,
    merchant_id: int | None = None,
) -> tuple[dict[Category, Score], dict[str, Score]]:
    """Surveys sent in the period: (by queue, by agent name), each with its average score."""
    statement = (
        select(
            SatisfactionSurvey.category,
            User.name,
            func.count(SatisfactionSurvey.id),
            func.count(SatisfactionSurvey.score),
            func.coalesce(func.sum(SatisfactionSurvey.score), 0),
        )
        .outerjoin(User, User.id == SatisfactionSurvey.agent_id)
        .where(SatisfactionSurvey.sent_at >= since, SatisfactionSurvey.sent_at < until)
        .group_by(SatisfactionSurvey.category, User.name)
    )
    if category is not None:
        statement = statement.where(SatisfactionSurvey.category == category)
    if merchant_id is not None:
        statement = statement.join(Ticket, Ticket.id == SatisfactionSurvey.ticket_id).where(
            Ticket.merchant_id == merchant_id
        )
    by_category: dict[Category, Score] = defaultdict(Score)
    by_agent: dict[str, Score] = defaultdict(Score)
    for queue, agent, asked, rated, total in db.session.execute(statement):
        for score in (by_category[queue], by_agent[agent or ""]):
            score.asked += asked
            score.rated += rated
            score.total += int(total)
    return dict(by_category), dict(by_agent)
