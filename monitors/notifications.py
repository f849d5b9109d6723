"""Notification delivery: the deadline after a synthetic transaction, and each production
merchant's silence compared with its own usual gaps (a dead man's switch that learns)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from itertools import pairwise
from statistics import quantiles
from zoneinfo import ZoneInfo

from sqlalchemy import select

from monitors.base import CheckResult, MonitorSpec
from supportit.db import db
from supportit.models import (
    CheckStatus,
    MonitorResult,
    NotificationState,
    PaygateNotification,
)

_TRANS_ID = re.compile(r"TransID=(\S+?):")


def deadline(monitor: MonitorSpec, at: datetime) -> CheckResult:
    """The synthetic transaction's URLNotify reached SupportIT within `deadline_seconds`."""
    source = monitor.setting("source_monitor_id", None)
    limit = timedelta(seconds=float(monitor.setting("deadline_seconds", 120)))
    if source is None:
        return CheckResult.down("no synthetic monitor to follow (source_monitor_id)")
    # The newest transaction whose deadline has passed: younger ones still have time.
    sent = db.session.scalars(
        select(MonitorResult)
        .where(
            MonitorResult.monitor_id == int(source),
            MonitorResult.status == CheckStatus.UP,
            MonitorResult.checked_at <= at - limit,
        )
        .order_by(MonitorResult.checked_at.desc())
        .limit(1)
    ).first()
    if sent is None:
        return CheckResult.up("waiting for a synthetic transaction older than the deadline")
    found = _TRANS_ID.search(sent.detail)
    if found is None:
        return CheckResult.up("the last synthetic transaction has no TransID")
    trans_id = found.group(1)
    received = db.session.scalars(
        select(PaygateNotification)
        .where(
            PaygateNotification.trans_id == trans_id,
            PaygateNotification.state == NotificationState.ACCEPTED,
        )
        .order_by(PaygateNotification.received_at)
        .limit(1)
    ).first()
    if received is None:
        return CheckResult.down(
            f"no notification for TransID {trans_id} {int((at - sent.checked_at).total_seconds())}"
            f" s after it was sent (deadline {int(limit.total_seconds())} s)"
        )
    delay = (received.received_at - sent.checked_at).total_seconds()
    if delay > limit.total_seconds():
        return CheckResult.degraded(
            f"notification for {trans_id} arrived late: {delay:.0f} s", delay * 1000
        )
    return CheckResult.up(f"notification for {trans_id} received after {delay:.1f} s", delay * 1000)


def silence(monitor: MonitorSpec, at: datetime) -> CheckResult:
    """Warn when a merchant's notifications stop for longer than usual at this hour."""
    if monitor.merchant_id is None:
        return CheckResult.down("no merchant to watch")
    zone = ZoneInfo(monitor.setting("timezone", "Europe/Paris"))
    history_days = int(monitor.setting("history_days", 28))
    received = list(
        db.session.scalars(
            select(PaygateNotification.received_at)
            .where(
                PaygateNotification.merchant_id == monitor.merchant_id,
                PaygateNotification.state == NotificationState.ACCEPTED,
                PaygateNotification.received_at >= at - timedelta(days=history_days),
                PaygateNotification.received_at <= at,
            )
            .order_by(PaygateNotification.received_at)
        )
    )
    if not received:
        return CheckResult.up("no notification in the history yet: nothing to compare")
    silent = at - received[-1]
    hour = received[-1].astimezone(zone).hour
    # Gaps that began at the hour the silence began, on earlier days: the merchant's own
    # rhythm (a shop quiet every night after 23:00 is not silent at midnight).
    gaps = [
        (later - earlier).total_seconds()
        for earlier, later in pairwise(received)
        if earlier.astimezone(zone).hour == hour
    ]
    minimum = int(monitor.setting("min_history", 20))
    if len(gaps) < minimum:
        return CheckResult.up(f"learning: {len(gaps)} gaps at {hour} h, {minimum} needed")
    usual = quantiles(gaps, n=100)[94]  # p95
    allowed = max(
        usual * float(monitor.setting("factor", 2)), float(monitor.setting("min_minutes", 15)) * 60
    )
    detail = (
        f"last notification {silent.total_seconds() / 60:.0f} min ago; after {hour} h the "
        f"usual longest gap is {usual / 60:.0f} min"
    )
    if silent.total_seconds() > allowed:
        return CheckResult.degraded("silence: " + detail)
    return CheckResult.up(detail)
