"""The outbox worker: claims due mail, sends it, retries with backoff. Never loses, never doubles.

Rows are written by `notify` in the same transaction as the ticket change; this worker only
delivers. A row is claimed with a conditional UPDATE so two workers never send the same mail.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_, select, update

from supportit import mailer
from supportit.db import db, utcnow
from supportit.models import OutboundMail, OutboundStatus

log = logging.getLogger(__name__)

# Minutes to wait after each failed attempt; after the last, the mail is marked failed.
BACKOFF_MINUTES = (1, 2, 5, 15, 30, 60, 120, 240, 480, 720)
# A worker that died mid-send leaves its claim; another may take it over after this.
CLAIM_TIMEOUT = timedelta(minutes=10)


def _due(now: datetime) -> ColumnElement[bool]:
    """Pending mail whose time has come, or mail whose sender died mid-send."""
    return or_(
        and_(OutboundMail.status == OutboundStatus.PENDING, OutboundMail.next_attempt_at <= now),
        and_(
            OutboundMail.status == OutboundStatus.SENDING,
            OutboundMail.claimed_at < now - CLAIM_TIMEOUT,
        ),
    )


def _claim(mail_id: int) -> bool:
    now = utcnow()
    result = db.session.execute(
        update(OutboundMail)
        .where(
            OutboundMail.id == mail_id,
            _due(now),
        )
        .values(status=OutboundStatus.SENDING, claimed_at=now)
    )
    db.session.commit()
    return result.rowcount == 1


def due_ids(limit: int = 50) -> list[int]:
    now = utcnow()
    return list(
        db.session.scalars(
            select(OutboundMail.id)
            .where(_due(now))
            .order_by(OutboundMail.next_attempt_at, OutboundMail.id)
            .limit(limit)
        )
    )


def deliver_one(mail_id: int) -> bool:
    """Send one mail if this worker wins its claim; returns whether it was sent."""
    if not _claim(mail_id):
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
