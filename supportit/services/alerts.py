"""Alerts: raised by monitors and urgent tickets, told to the team or paged, escalated, acked.

During business hours an alert goes to the team; outside them an urgent one pages the primary
on-call engineer, then follows the escalation policy copied into the alert when it opened.
Nothing here keeps time in memory: each step is stored as `next_step_at`, and the scheduler's
`escalate_due` takes the steps whose time has come, so a restart never loses or repeats one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import force_locale
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from supportit.db import db, utcnow
from supportit.i18n import DEFAULT_LANGUAGE, LANGUAGES
from supportit.i18n import gettext as _
from supportit.i18n import lazy_gettext as _l
from supportit.models import (
    Alert,
    AlertEvent,
    AlertSource,
    AlertStatus,
    Category,
    ContactKind,
    ContactMethod,
    Environment,
    EscalationPolicy,
    Notification,
    NotificationChannel,
    Priority,
    Ticket,
    TicketFlag,
    User,
)
from supportit.services import oncall, sla
from supportit.services.errors import ServiceError
from supportit.services.users import active_staff, find_by_email

POLICY_NAME = "default"
_TARGET = re.compile(r"^(oncall:[1-9]|lead)$")
MAX_STEPS = 6
MAX_REPEATS = 10
MAX_DELAY_MINUTES = 24 * 60
ACTIONS = ("ack", "resolve")


# --- the escalation policy -------------------------------------------------------------------


def policy() -> EscalationPolicy:
    """The escalation policy, made from the configuration the first time it is needed."""
    found = db.session.scalar(select(EscalationPolicy).where(EscalationPolicy.name == POLICY_NAME))
    if found is not None:
        return found
    config = current_app.config
    delay = config["ESCALATION_DELAY_MINUTES"]
    lead = find_by_email(config["ESCALATION_TEAM_LEAD"] or "")
    found = EscalationPolicy(
        name=POLICY_NAME,
        steps=[
            {"notify": "oncall:1", "after_minutes": 0},
            {"notify": "oncall:2", "after_minutes": delay},
            {"notify": "lead", "after_minutes": delay},
        ],
        repeats=config["ESCALATION_REPEATS"],
        team_lead=lead if lead is not None and lead.is_staff else None,
    )
    db.session.add(found)
    db.session.flush()
    return found


def snapshot(current: EscalationPolicy) -> dict[str, Any]:
    """What an alert keeps of the policy: later edits must not change an alert under way."""
    return {
        "steps": [dict(step) for step in current.steps],
        "repeats": current.repeats,
        "team_lead": current.team_lead.email if current.team_lead else None,
    }


@dataclass(frozen=True)
class Step:
    notify: str  # "oncall:<layer>" or "lead"
    after_minutes: int


def save_policy(
    actor: User, steps: Sequence[Step], *, repeats: int, team_lead: str | None
) -> EscalationPolicy:
    """An admin changes the escalation policy; alerts already open keep the old one."""
    if not actor.is_admin:
        raise ServiceError(_l("Only administrators can change the escalation policy."))
    if not steps or len(steps) > MAX_STEPS:
        raise ServiceError(_l("Give between 1 and %(max)d steps.", max=MAX_STEPS), field="steps")
    for step in steps:
        if not _TARGET.match(step.notify):
            raise ServiceError(
                _l("Unknown step target %(target)s.", target=step.notify), field="steps"
            )
        if not 0 <= step.after_minutes <= MAX_DELAY_MINUTES:
            raise ServiceError(
                _l("A delay must be between 0 and %(max)d minutes.", max=MAX_DELAY_MINUTES),
                field="steps",
            )
    if any(step.after_minutes < 1 for step in steps[1:]):
        raise ServiceError(_l("Each later step needs a delay of at least one minute."))
    if not 0 <= repeats <= MAX_REPEATS:
        raise ServiceError(
            _l("Repeats must be between 0 and %(max)d.", max=MAX_REPEATS), field="repeats"
        )
    lead = None
    if team_lead:
        lead = find_by_email(team_lead)
        if lead is None or not lead.is_staff or not lead.is_active:
            raise ServiceError(
                _l("%(email)s is not an active agent.", email=team_lead), field="team_lead"
            )
    current = policy()
    current.steps = [{"notify": s.notify, "after_minutes": s.after_minutes} for s in steps]
    current.steps[0]["after_minutes"] = 0  # the first step is the page itself
    current.repeats = repeats
    current.team_lead = lead
    current.updated_by_id = actor.id
    db.session.commit()
    return current


# --- raising an alert ------------------------------------------------------------------------


@dataclass(frozen=True)
class Raised:
    alert: Alert
    created: bool  # False: an open alert with the same key counted one more occurrence


def raise_alert(
    key: str,
    title: str,
    *,
    priority: Priority = Priority.P1,
    source: AlertSource = AlertSource.MONITOR,
    details: str = "",
    ticket: Ticket | None = None,
    now: datetime | None = None,
    commit: bool = True,
) -> Raised:
    """Open an alert and tell whoever must be told, or add to the open alert with that key.

    With commit=False the alert goes with the caller's transaction (a ticket that opens it).
    """
    key = " ".join((key or "").split())[:200]
    title = " ".join((title or "").split())[:200]
    if not key:
        raise ServiceError(_l("An alert needs a deduplication key."), field="key")
    if not title:
        raise ServiceError(_l("An alert needs a title."), field="title")
    now = now or utcnow()
    existing = open_alert(key)
    if existing is None:
        alert = Alert(
            dedup_key=key,
            source=source,
            title=title,
            details=(details or "")[:10_000],
            priority=priority,
            ticket=ticket,
            status=AlertStatus.OPEN,
            route="team",
            opened_at=now,
            last_seen_at=now,
            policy=snapshot(policy()),
            events=[],
        )
        try:
            # A savepoint: if another process opened the same key a moment ago, only this
            # insert is undone, not the caller's ticket.
            with db.session.begin_nested():
                db.session.add(alert)
        except IntegrityError:
            existing = open_alert(key)
            if existing is None:
                raise
        else:
            _event(alert, "created", detail=f"{source.value} · {priority.value}", at=now)
            _route(alert, now)
            if commit:
                db.session.commit()
            return Raised(alert, True)
    existing.occurrences += 1
    existing.last_seen_at = now
    _event(existing, "repeated", detail=(details or title)[:500], at=now)
    if commit:
        db.session.commit()
    return Raised(existing, False)


def open_alert(key: str) -> Alert | None:
    return db.session.scalar(
        select(Alert).where(Alert.dedup_key == key, Alert.status != AlertStatus.RESOLVED)
    )


def _event(
    alert: Alert,
    action: str,
    *,
    detail: str | None = None,
    actor: User | None = None,
    channel: str | None = None,
    recipient: str | None = None,
    at: datetime | None = None,
) -> None:
    alert.events.append(
        AlertEvent(
            action=action,
            detail=detail,
            actor_id=actor.id if actor else None,
            channel=channel,
            recipient=recipient,
            at=at or utcnow(),
        )
    )


def _route(alert: Alert, now: datetime) -> None:
    """First telling: the team in business hours, else the first step of the policy."""
    route = oncall.route(now, alert.priority)
    for warning in route.warnings:
        _event(alert, "warning", detail=warning, at=now)
    if route.route == "oncall":
        alert.route = "oncall"
        _page_step(alert, 0, now)
        return
    alert.route = "team"
    _tell_team(alert, "team", now)
    if alert.priority not in oncall.URGENT:
        return  # told to the team, for the next opening; nobody is woken for it
    if route.business_hours:
        # Still unacknowledged at closing time, it goes to the on-call engineer.
        alert.next_step_at = _closing(now)
    else:
        # Nobody reachable on call: try again after the escalation delay, a bounded number
        # of times, while the team has it.
        alert.next_step_at = now + timedelta(minutes=_delay(alert))


def _closing(now: datetime) -> datetime:
    _, closing = next(sla.team_calendar().open_intervals(now))
    return closing


def _delay(alert: Alert) -> int:
    steps = alert.policy["steps"]
    later = [int(step["after_minutes"]) for step in steps[1:]]
    return later[0] if later else current_app.config["ESCALATION_DELAY_MINUTES"]


# --- escalation ------------------------------------------------------------------------------


def escalate_due(now: datetime | None = None) -> int:
    """Run every escalation step whose time has come; returns how many ran. Scheduler job."""
    now = now or utcnow()
    due = db.session.execute(
        select(Alert.id, Alert.next_step_at)
        .where(Alert.status == AlertStatus.OPEN, Alert.next_step_at <= now)
        .order_by(Alert.next_step_at, Alert.id)
        .limit(200)
    ).all()
    ran = 0
    for alert_id, step_at in due:
        # Claimed by a conditional UPDATE: an acknowledgement or another scheduler that got
        # there first makes this one do nothing.
        claimed = db.session.execute(
            update(Alert)
            .where(
                Alert.id == alert_id,
                Alert.status == AlertStatus.OPEN,
                Alert.next_step_at == step_at,
            )
            .values(next_step_at=None)
            .execution_options(synchronize_session=False)
        ).rowcount
        if not claimed:
            db.session.rollback()
            continue
        alert = db.session.get(Alert, alert_id)
        db.session.refresh(alert)
        _advance(alert, now)
        db.session.commit()
        ran += 1
    return ran


def _advance(alert: Alert, now: datetime) -> None:
    if alert.route == "team":
        route = oncall.route(now, alert.priority)
        if route.route == "oncall":
            alert.route = "oncall"
            _event(alert, "handed_over", detail="oncall", at=now)
            _page_step(alert, 0, now)
        elif route.business_hours:
            alert.next_step_at = _closing(now)
        else:
            for warning in route.warnings:
                _event(alert, "warning", detail=warning, at=now)
            _repeat_or_give_up(alert, now)
        return
    steps = alert.policy["steps"]
    if alert.step + 1 < len(steps):
        _event(alert, "escalated", detail=steps[alert.step + 1]["notify"], at=now)
        _page_step(alert, alert.step + 1, now)
    else:
        _repeat_or_give_up(alert, now)


def _repeat_or_give_up(alert: Alert, now: datetime) -> None:
    if alert.cycle < int(alert.policy["repeats"]):
        alert.cycle += 1
        _event(alert, "repeat", detail=str(alert.cycle), at=now)
        if alert.route == "oncall":
            _page_step(alert, 0, now)
        else:
            alert.next_step_at = now + timedelta(minutes=_delay(alert))
        return
    # Every step and repeat went unanswered: the alert stays on every agent page, in red,
    # and the whole team is told once.
    alert.exhausted = True
    alert.next_step_at = None
    _event(alert, "exhausted", at=now)
    _tell_team(alert, "unanswered", now)


def _page_step(alert: Alert, index: int, now: datetime) -> None:
    steps = alert.policy["steps"]
    alert.step = index
    target = steps[index]["notify"]
    users, warning = _step_users(alert, target, now)
    if warning:
        _event(alert, "warning", detail=warning, at=now)
    if not users:
        _tell_team(alert, "team", now)
    for user in users:
        _page_user(alert, user, now)
    if index + 1 < len(steps):
        alert.next_step_at = now + timedelta(minutes=int(steps[index + 1]["after_minutes"]))
    else:
        alert.next_step_at = now + timedelta(minutes=_delay(alert))


def _step_users(alert: Alert, target: str, now: datetime) -> tuple[list[User], str | None]:
    if target == "lead":
        lead = find_by_email(alert.policy.get("team_lead") or "")
        if lead is not None and lead.is_active and lead.is_staff:
            return [lead], None
        admins = [user for user in active_staff() if user.is_admin]
        if admins:
            return admins, None
        return [], "no team lead and no administrator: falling back to the whole team"
    layer = int(target.partition(":")[2])
    for shift in oncall.on_call(now):
        if shift.rotation.layer == layer and shift.user is not None:
            return [shift.user], None
    return [], f"nobody on call in layer {layer}: falling back to the whole team"


def _page_user(alert: Alert, user: User, now: datetime) -> None:
    known = oncall.contact_methods(user)
    methods = [m for m in known if _usable(m)]
    skipped = [m for m in known if not _usable(m)]
    for method in skipped:
        _event(
            alert,
            "warning",
            detail=f"{method.kind.value} for {user.email} skipped: no provider configured",
            at=now,
        )
    if not methods:
        # A page always reaches someone: the engineer's own mail at the very least.
        _notify(alert, "page", NotificationChannel.MAIL, user.email, user, now, tag="fallback")
        return
    for method in methods:
        _notify(alert, "page", NotificationChannel(method.kind.value), method.address, user, now)


def _usable(method: ContactMethod) -> bool:
    config = current_app.config
    if method.kind is ContactKind.SMS:
        return bool(config["SMS_PROVIDER_URL"])
    if method.kind is ContactKind.VOICE:
        return bool(config["VOICE_PROVIDER_URL"])
    return True


def _tell_team(alert: Alert, kind: str, now: datetime) -> None:
    for user in oncall.team():
        _notify(alert, kind, NotificationChannel.MAIL, user.email, user, now)
    chat = current_app.config["CHAT_WEBHOOK_URL"]
    if chat:
        _notify(alert, kind, NotificationChannel.CHAT, chat, None, now)


# --- notifications ---------------------------------------------------------------------------


def _notify(
    alert: Alert,
    kind: str,
    channel: NotificationChannel,
    address: str,
    user: User | None,
    now: datetime,
    *,
    tag: str = "",
) -> None:
    """Write one notification to the outbox, once: its key names the step that sent it."""
    key = f"{kind}.{alert.cycle}.{alert.step}.{channel.value}.{address}{tag}"[:600]
    if any(n.key == key for n in db.session.new if isinstance(n, Notification)):
        return
    if alert.id is not None and db.session.scalar(
        select(Notification.id).where(Notification.alert_id == alert.id, Notification.key == key)
    ):
        return
    language = user.language if user and user.language in LANGUAGES else DEFAULT_LANGUAGE
    subject, text, payload = _content(
        alert, kind, user, language, long=channel is NotificationChannel.MAIL
    )
    db.session.add(
        Notification(
            alert=alert,
            key=key,
            kind=kind,
            channel=channel,
            user=user,
            address=address,
            subject=subject,
            text=text,
            payload=payload,
            next_attempt_at=now,
            created_at=now,
        )
    )
    _event(alert, "notified", detail=kind, channel=channel.value, recipient=address, at=now)


def _content(
    alert: Alert, kind: str, user: User | None, language: str, *, long: bool
) -> tuple[str, str, dict[str, Any]]:
    """(subject, text, JSON payload) of a notification, in the recipient's language.

    The text is one line for SMS, voice and chat; a mail gets the details and every link.
    """
    if alert.id is None:
        db.session.flush()  # the alert's id goes into the links
    page = _url(f"/queue/alerts/{alert.id}")
    ack = action_url(alert, user, "ack") if user else page
    resolve = action_url(alert, user, "resolve") if user else page
    with force_locale(language):
        if kind == "resolved":
            subject = _("[SupportIT] Resolved: %(title)s", title=alert.title)
            text = _("Alert #%(id)d is resolved: %(title)s.", id=alert.id, title=alert.title)
        elif kind == "unanswered":
            subject = _("[SupportIT] Nobody acknowledged: %(title)s", title=alert.title)
            text = _(
                "Alert #%(id)d (%(priority)s) was paged through every escalation step and "
                "nobody acknowledged it: %(title)s. %(url)s",
                id=alert.id,
                priority=alert.priority.value,
                title=alert.title,
                url=page,
            )
        else:
            subject = _(
                "[SupportIT %(priority)s] %(title)s",
                priority=alert.priority.value,
                title=alert.title,
            )
            text = _(
                "Alert #%(id)d (%(priority)s): %(title)s. Acknowledge: %(ack)s",
                id=alert.id,
                priority=alert.priority.value,
                title=alert.title,
                ack=ack,
            )
        if long:
            lines = [text, ""]
            if alert.details:
                lines += [alert.details, ""]
            if kind != "resolved" and user is not None:
                lines.append(_("Acknowledge: %(url)s", url=ack))
                lines.append(_("Resolve: %(url)s", url=resolve))
            lines.append(_("Alert page: %(url)s", url=page))
            text = "\n".join(lines)
    payload = {
        "event": f"alert.{kind}",
        "alert": {
            "id": alert.id,
            "key": alert.dedup_key,
            "title": alert.title,
            "priority": alert.priority.value,
            "status": alert.status.value,
            "source": alert.source.value,
            "ticket": alert.ticket.reference if alert.ticket else None,
            "opened_at": alert.opened_at.isoformat(),
            "occurrences": alert.occurrences,
            "url": page,
        },
        "recipient": user.email if user else None,
        "acknowledge_url": ack,
        "resolve_url": resolve,
        "details": alert.details,
    }
    return subject, text, payload


def _url(path: str) -> str:
    return f"{current_app.config['BASE_URL']}{path}"


# --- one-click links -------------------------------------------------------------------------


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="supportit.alert-action")


def action_url(alert: Alert, user: User | None, action: str) -> str:
    """A signed link that acknowledges or resolves `alert` as `user`, valid for some hours."""
    token = _serializer().dumps({"a": alert.id, "u": user.id if user else None, "x": action})
    return _url(f"/alerts/act/{token}")


class LinkExpired(ServiceError):
    """A genuine link, too old to act on."""


@dataclass(frozen=True)
class LinkAction:
    alert: Alert
    user: User | None
    action: str


def read_link(token: str) -> LinkAction:
    max_age = current_app.config["ALERT_LINK_HOURS"] * 3600
    try:
        data = _serializer().loads(token, max_age=max_age)
    except SignatureExpired:
        raise LinkExpired(_l("This link has expired. Open the alert in SupportIT.")) from None
    except BadSignature:
        raise ServiceError(_l("This link is not valid.")) from None
    alert = db.session.get(Alert, data.get("a"))
    user = db.session.get(User, data["u"]) if data.get("u") else None
    if alert is None or data.get("x") not in ACTIONS:
        raise ServiceError(_l("This link is not valid."))
    if user is not None and not (user.is_active and user.is_staff):
        raise ServiceError(_l("This link is not valid."))
    return LinkAction(alert, user, data["x"])


# --- acknowledging and resolving -------------------------------------------------------------


def acknowledge(alert: Alert, user: User | None, *, via: str = "web") -> bool:
    """Someone has it: escalation stops. Returns False if it was already acknowledged."""
    if alert.status is AlertStatus.RESOLVED:
        raise ServiceError(_l("This alert is already resolved."))
    if alert.status is AlertStatus.ACKNOWLEDGED:
        return False
    now = utcnow()
    alert.status = AlertStatus.ACKNOWLEDGED
    alert.acknowledged_at = now
    alert.acknowledged_by = user
    alert.next_step_at = None
    _event(alert, "acknowledged", actor=user, channel=via, at=now)
    db.session.commit()
    return True


def resolve(alert: Alert, user: User | None, *, via: str = "web", commit: bool = True) -> bool:
    """The problem is over: whoever was paged or told hears it. False if already resolved."""
    if alert.status is AlertStatus.RESOLVED:
        return False
    now = utcnow()
    alert.status = AlertStatus.RESOLVED
    alert.resolved_at = now
    alert.resolved_by = user
    alert.next_step_at = None
    _event(alert, "resolved", actor=user, channel=via, at=now)
    told = db.session.execute(
        select(Notification.channel, Notification.address, Notification.user_id)
        .where(Notification.alert_id == alert.id, Notification.kind != "resolved")
        .distinct()
    ).all()
    for channel, address, user_id in sorted(told, key=lambda row: (row[0].value, row[1])):
        recipient = db.session.get(User, user_id) if user_id else None
        _notify(alert, "resolved", channel, address, recipient, now)
    if commit:
        db.session.commit()
    return True


def resolve_key(key: str) -> Alert | None:
    """A monitor saw the problem go away: resolve its open alert, if any."""
    alert = open_alert(key)
    if alert is not None:
        resolve(alert, None, via="monitor")
    return alert


# --- tickets ---------------------------------------------------------------------------------


def ticket_key(ticket: Ticket) -> str:
    return f"ticket:{ticket.reference}"


def is_urgent(
    category: Category | None, priority: Priority | None, environment: Environment | None
) -> bool:
    """RUN, P1, production: production is down, someone must know (even at night)."""
    return (
        category is Category.RUN
        and priority is Priority.P1
        and environment is Environment.PRODUCTION
    )


def pages_for(ticket: Ticket) -> bool:
    return is_urgent(ticket.category, ticket.priority, ticket.environment)


def urgent_pages_today(merchant_id: int, now: datetime | None = None) -> int:
    """How many of this merchant's tickets paged the on-call engineer in the last 24 hours."""
    since = (now or utcnow()) - timedelta(hours=24)
    return db.session.scalar(
        select(func.count(Alert.id))
        .join(Ticket, Alert.ticket_id == Ticket.id)
        .where(
            Ticket.merchant_id == merchant_id,
            Alert.source == AlertSource.TICKET,
            Alert.route == "oncall",
            Alert.opened_at >= since,
        )
    )


def over_urgent_cap(merchant_id: int, now: datetime | None = None) -> bool:
    """Outside business hours, past its daily cap, a merchant's urgent ticket wakes nobody."""
    now = now or utcnow()
    if sla.team_calendar().is_business_hours(now):
        return False  # the team is there: nobody is woken, nothing to cap
    return urgent_pages_today(merchant_id, now) >= current_app.config["URGENT_TICKETS_PER_DAY"]


def follow_ticket(ticket: Ticket) -> None:
    """Open or resolve the ticket's alert to match it. No commit: part of the ticket change."""
    if ticket.id is None:
        db.session.flush()
    key = ticket_key(ticket)
    if ticket.flag is TicketFlag.URGENT_CAPPED:
        return  # capped: the team sees it at opening, flagged, instead of anyone being paged
    if pages_for(ticket) and ticket.status.is_active:
        if open_alert(key) is None:
            raise_alert(
                key,
                f"{ticket.reference} · {ticket.subject}",
                priority=Priority.P1,
                source=AlertSource.TICKET,
                details=ticket.merchant.name if ticket.merchant else "",
                ticket=ticket,
                commit=False,
            )
        return
    alert = open_alert(key)
    if alert is not None and not ticket.status.is_active:
        resolve(alert, None, via="ticket", commit=False)


# --- reading ---------------------------------------------------------------------------------


def active(limit: int = 100) -> list[Alert]:
    """Unresolved alerts, the ones nobody has acknowledged first."""
    return list(
        db.session.scalars(
            select(Alert)
            .where(Alert.status != AlertStatus.RESOLVED)
            .order_by(Alert.status.desc(), Alert.opened_at.desc())
            .limit(limit)
        )
    )


def recent(limit: int = 50) -> list[Alert]:
    return list(
        db.session.scalars(
            select(Alert)
            .where(Alert.status == AlertStatus.RESOLVED)
            .order_by(Alert.resolved_at.desc())
            .limit(limit)
        )
    )


def unacknowledged() -> list[Alert]:
    """What every agent page shows in red until someone takes it."""
    return list(
        db.session.scalars(
            select(Alert)
            .where(Alert.status == AlertStatus.OPEN)
            .order_by(Alert.exhausted.desc(), Alert.opened_at)
            .limit(10)
        )
    )
