"""What every agent page shows above its content: the alerts nobody has acknowledged, the
mailboxes failing to fetch, and the bell's count of unread notices.

Every page an agent opens asks, and the answer is nearly always nothing: one statement counts
all three, and the alerts and mailboxes themselves are read only when there is one to show.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from supportit.db import db
from supportit.models import Alert, AlertStatus, MailboxStatus, User
from supportit.services import alerts, watchers


@dataclass(frozen=True)
class Attention:
    open_alerts: list[Alert]
    failing_mailboxes: list[MailboxStatus]
    unread_notices: int


def for_agent(user: User) -> Attention:
    counted = watchers.unread_counted()  # the ticket page has counted them before the banner
    columns = [
        select(func.count())
        .select_from(Alert)
        .where(Alert.status == AlertStatus.OPEN)
        .scalar_subquery(),
        select(func.count())
        .select_from(MailboxStatus)
        .where(MailboxStatus.failing)
        .scalar_subquery(),
    ]
    if user.id not in counted:
        columns.append(watchers.unread_query(user).scalar_subquery())
    open_alerts, failing, *unread = db.session.execute(select(*columns)).one()
    if unread:
        counted[user.id] = unread[0]
    return Attention(
        open_alerts=alerts.unacknowledged() if open_alerts else [],
        failing_mailboxes=(
            list(db.session.scalars(select(MailboxStatus).where(MailboxStatus.failing)))
            if failing
            else []
        ),
        unread_notices=counted[user.id],
    )
