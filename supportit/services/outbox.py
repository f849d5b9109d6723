"""The outbox worker: claims due mail, sends it, retries with backoff. Never loses, never doubles.

Rows are written by `notify` in the same transaction as the ticket change; this worker only
delivers. A row is claimed with a conditional UPDATE so two workers never send the same mail.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select, update

from supportit import mailer
from supportit.db import db, utcnow
from supportit.models import OutboundMail, OutboundStatus

log = logging.getLogger(__name__)

# Minutes to wait after each failed attempt; after the last, the mail is marked failed.
BACKOFF_MINUTES = (1, 2, 5, 15, 30, 60, 120, 240, 480, 720)
# A worker that died mid-send leaves its claim; another may take it over after this.
CLAIM_TIMEOUT = timedelta(minutes=10)


@dataclass(frozen=True)
class Queue:
    """A table of rows to deliver: which are due, and how a worker claims one.

    Outbound mail and alert notifications share it; only their timings differ.
    """

    model: Any  # a mapped class with id, status, next_attempt_at and claimed_at
    pending: enum.Enum
    sending: enum.Enum
    claim_timeout: timedelta

    def due(self, now: datetime) -> ColumnElement[bool]:
        """Rows whose time has come, or rows whose worker died mid-send."""
        model = self.model
        return or_(
            and_(model.status == self.pending, model.next_attempt_at <= now),
            and_(model.status == self.sending, model.claimed_at < now - self.claim_timeout),
        )

    def due_ids(self, limit: int) -> list[int]:
        model = self.model
        return list(
            db.session.scalars(
                select(model.id)
                .where(self.due(utcnow()))
                .order_by(model.next_attempt_at, model.id)
                .limit(limit)
            )
        )

    def claim(self, row_id: int) -> bool:
        """Take one row with a conditional UPDATE: two workers never both win it."""
        now = utcnow()
        result = db.session.execute(
            update(self.model)
            .where(self.model.id == row_id, self.due(now))
            .values(status=self.sending, claimed_at=now)
            # No need to update loaded objects: the commit expires them, they reload on use.
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
        return result.rowcount == 1


MAIL = Queue(OutboundMail, OutboundStatus.PENDING, OutboundStatus.SENDING, CLAIM_TIMEOUT)


def due_ids(limit: int = 50) -> list[int]:
    return MAIL.due_ids(limit)


def deliver_one(mail_id: int) -> bool:
    """Send one mail if this worker wins its claim; returns whether it was sent."""
    if not MAIL.claim(mail_id):
        return False
    mail = db.session.get(OutboundMail, mail_id)
    try:
        mailer.send(mail)
    except mailer.PermanentFailure as error:
        _failed(mail, str(error), permanent=True)
        return False
    except Exception as error:  # network, timeouts, 4xx: try again later
        _failed(mail, f"{type(error).__name__}: {error}", permanent=False)
        return False
    mail.status = OutboundStatus.SENT
    mail.sent_at = utcnow()
    mail.attempts += 1
    mail.last_error = None
    db.session.commit()
    return True


def _failed(mail: OutboundMail, error: str, *, permanent: bool) -> None:
    mail.attempts += 1
    mail.last_error = error[:2000]
    if permanent or mail.attempts > len(BACKOFF_MINUTES):
        mail.status = OutboundStatus.FAILED
        log.error("mail %s to %s failed for good: %s", mail.id, mail.to_addrs, error)
    else:
        mail.status = OutboundStatus.PENDING
        mail.next_attempt_at = utcnow() + timedelta(minutes=BACKOFF_MINUTES[mail.attempts - 1])
        log.warning("mail %s will be retried: %s", mail.id, error)
    db.session.commit()


def deliver_due() -> int:
    """One pass over the due mail and alert notifications; returns how many were sent."""
    from supportit.services import notifications

    # Pages first: an engineer waiting to be woken matters more than an acknowledgement mail.
    paged = notifications.deliver_due()
    return paged + sum(deliver_one(mail_id) for mail_id in due_ids())
