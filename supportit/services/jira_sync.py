"""Jira, through the `jira` package, from an outbox: SupportIT never waits on Jira.

Asking for an issue writes a `JiraLink` row; the scheduler's `jira-push` job creates it when
Jira answers (retrying with backoff while it is down or slow), and `jira-pull` brings comments
and status changes back as internal notes or onboarding history. Jira's webhook, when set up,
does the same at once. The link's label makes the create safe to repeat: the issue is first
searched by it, so an answer lost after Jira created the issue never makes a second one.
"""

from __future__ import annotations

import hmac
import logging
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from jira import JIRA, JIRAError
from requests import RequestException
from sqlalchemy import select

from supportit.db import db, utcnow
from supportit.i18n import lazy_gettext as _l
from supportit.models import JiraLink, JiraState, Onboarding, OnboardingEvent, Ticket, User
from supportit.services import tickets
from supportit.services.errors import ServiceError

log = logging.getLogger(__name__)

BACKOFF = (30, 60, 120, 300, 600, 900)  # seconds; then every 15 minutes until Jira answers


class JiraUnavailable(Exception):
    """Jira did not answer usefully (down, slow, 5xx, 401): try again later."""


def configured() -> bool:
    return bool(current_app.config.get("JIRA_URL"))


def _client() -> JIRA:
    config = current_app.config
    try:
        return JIRA(
            server=config["JIRA_URL"],
            basic_auth=(config["JIRA_USER"], config["JIRA_TOKEN"]),
            timeout=config["JIRA_TIMEOUT"],
            max_retries=0,  # our outbox retries, with its own backoff
            get_server_info=False,
            options={"rest_api_version": "2"},
        )
    except (JIRAError, RequestException) as error:
        raise JiraUnavailable(_reason(error)) from error


def _reason(error: BaseException) -> str:
    if isinstance(error, JIRAError):
        return f"HTTP {error.status_code}: {error.text or ''}"[:500]
    return f"{type(error).__name__}: {error}"[:500]


# --- asking for issues -----------------------------------------------------------------------


def request_for_onboarding(onboarding: Onboarding) -> JiraLink:
    """At signature: the onboarding's Jira issue (created by the outbox)."""
    label = f"supportit-onboarding-{onboarding.id}"
    existing = db.session.scalar(select(JiraLink).where(JiraLink.label == label))
    if existing is not None:
        return existing
    products = ", ".join(onboarding.products)
    link = JiraLink(
        label=label,
        onboarding_id=onboarding.id,
        summary=f"Onboarding FLOA Pay · {onboarding.merchant.name} · {products}",
        description=(
            f"Marchand : {onboarding.merchant.name}\nProcessus : {onboarding.template.name}\n"
            f"Produits : {products}\nSigné le : {onboarding.signed_on.isoformat()}\n"
            + (f"Salesforce : {onboarding.salesforce_url}\n" if onboarding.salesforce_url else "")
        ),
    )
    db.session.add(link)
    db.session.commit()
    return link


def escalate_ticket(ticket: Ticket, actor: User) -> JiraLink:
    if not actor.is_staff:
        raise ServiceError(_l("Only agents escalate tickets to Jira."))
    label = f"supportit-ticket-{ticket.id}"
    existing = db.session.scalar(select(JiraLink).where(JiraLink.label == label))
    if existing is not None:
        raise ServiceError(_l("This ticket is already escalated to Jira."))
    first = ticket.messages[0].body_text if ticket.messages else ""
    link = JiraLink(
        label=label,
        ticket_id=ticket.id,
        summary=f"{ticket.reference} · {ticket.subject}"[:250],
        description=(
            f"Ticket SupportIT {ticket.reference} ({ticket.category.value}, "
            f"{ticket.priority.value})\nMarchand : "
            f"{ticket.merchant.name if ticket.merchant else '?'}\n"
            f"{_url(f'/queue/tickets/{ticket.reference}')}\n\n{first[:5000]}"
        ),
    )
    db.session.add(link)
    db.session.commit()
    tickets.add_external_note(
        ticket, "SupportIT", f"Escaladé vers Jira par {actor.name} (création en cours)."
    )
    return link


def _url(path: str) -> str:
    return f"{(current_app.config.get('BASE_URL') or '').rstrip('/')}{path}"


# --- the outbox --------------------------------------------------------------------------------


def push_pending(now: datetime | None = None) -> int:
    """Create the pending issues that are due; returns how many were created."""
    if not configured():
        return 0
    now = now or utcnow()
    due = db.session.scalars(
        select(JiraLink)
        .where(JiraLink.state == JiraState.PENDING, JiraLink.next_attempt_at <= now)
        .order_by(JiraLink.next_attempt_at)
        .limit(50)
    ).all()
    if not due:
        return 0
    created = 0
    try:
        client = _client()
    except JiraUnavailable as error:
        for link in due:
            _postpone(link, str(error), now)
        db.session.commit()
        return 0
    for link in due:
        try:
            key = _create(client, link)
        except JiraUnavailable as error:
            _postpone(link, str(error), now)
            db.session.commit()
            continue
        except _Refused as error:
            link.state = JiraState.REFUSED
            link.last_error = str(error)
            _announce(
                link, f"Jira a refusé la création : {error}", what="refused", error=str(error)
            )
            db.session.commit()
            continue
        link.issue_key = key
        link.state = JiraState.CREATED
        link.last_error = None
        link.synced_at = now
        if link.onboarding_id is not None:
            onboarding = db.session.get(Onboarding, link.onboarding_id)
            if onboarding is not None:
                onboarding.jira_key = key
        _announce(link, f"Issue Jira {key} créée.", what="created", key=key)
        db.session.commit()
        created += 1
    return created


class _Refused(Exception):
    pass


def _create(client: JIRA, link: JiraLink) -> str:
    try:
        found = client.search_issues(f'labels = "{link.label}"', maxResults=2, fields="status")
        if found:
            return str(found[0].key)  # created by an earlier attempt whose answer was lost
        fields: dict[str, Any] = {
            "project": {"key": current_app.config["JIRA_PROJECT"]},
            "issuetype": {"name": current_app.config["JIRA_ISSUE_TYPE"]},
            "summary": link.summary,
            "description": link.description,
            "labels": [link.label, "supportit"],
            **current_app.config.get("JIRA_FIELDS", {}),
        }
        issue = client.create_issue(fields=fields)
        key = getattr(issue, "key", None)
        if not isinstance(key, str) or not key:
            raise JiraUnavailable("Jira answered without an issue key")
        return key
    except JIRAError as error:
        if error.status_code == 400:
            raise _Refused(_reason(error)) from error
        raise JiraUnavailable(_reason(error)) from error
    except RequestException as error:
        raise JiraUnavailable(_reason(error)) from error


def _postpone(link: JiraLink, reason: str, now: datetime) -> None:
    wait = BACKOFF[min(link.attempts, len(BACKOFF) - 1)]
    link.attempts += 1
    link.last_error = reason
    link.next_attempt_at = now + timedelta(seconds=wait)
    log.warning("Jira: %s postponed %d s (%s)", link.label, wait, reason)


def _announce(link: JiraLink, text: str, **data: Any) -> None:
    """Tell the ticket (an internal note) or the onboarding (its history, `data` for the page)."""
    if link.ticket_id is not None:
        ticket = db.session.get(Ticket, link.ticket_id)
        if ticket is not None:
            tickets.add_external_note(ticket, "Jira", text)
    elif link.onboarding_id is not None:
        db.session.add(
            OnboardingEvent(
                onboarding_id=link.onboarding_id, kind="jira", detail=text[:2000], data=data or None
            )
        )


# --- coming back -----------------------------------------------------------------------------


def pull_updates(now: datetime | None = None) -> int:
    """Bring new comments and status changes back; returns how many were told."""
    if not configured():
        return 0
    links = db.session.scalars(
        select(JiraLink).where(JiraLink.state == JiraState.CREATED).order_by(JiraLink.id)
    ).all()
    if not links:
        return 0
    try:
        client = _client()
    except JiraUnavailable:
        return 0
    told = 0
    for link in links:
        try:
            issue = client.issue(link.issue_key, fields="status,comment")
        except (JIRAError, RequestException) as error:
            log.warning("Jira: %s not read (%s)", link.issue_key, _reason(error))
            continue
        fields = getattr(issue, "fields", None)
        status = getattr(getattr(fields, "status", None), "name", None)
        comments = getattr(getattr(fields, "comment", None), "comments", None) or []
        told += apply_update(
            link,
            status if isinstance(status, str) else None,
            [
                {
                    "id": str(getattr(c, "id", "")),
                    "body": str(getattr(c, "body", "")),
                    "author": str(getattr(getattr(c, "author", None), "displayName", "Jira")),
                }
                for c in comments
            ],
            now,
        )
    return told


def apply_update(
    link: JiraLink, status: str | None, comments: list[dict[str, str]], now: datetime | None
) -> int:
    """Tell what is new (idempotent: a comment or status already told is not told again)."""
    told = 0
    seen = set(link.seen_comments or [])
    for comment in comments:
        if not comment.get("id") or comment["id"] in seen:
            continue
        if comment.get("author") == "SupportIT":
            seen.add(comment["id"])
            continue
        seen.add(comment["id"])
        _announce(
            link,
            f"Commentaire Jira de {comment.get('author') or 'Jira'} :\n{comment.get('body', '')}",
            what="comment",
            author=comment.get("author") or "Jira",
            body=str(comment.get("body", ""))[:1500],
        )
        told += 1
    if status and status != link.last_status:
        if link.last_status is not None:
            _announce(
                link,
                f"Statut Jira : {link.last_status} → {status}",
                what="status",
                old=link.last_status,
                new=status,
            )
            told += 1
        link.last_status = status
    link.seen_comments = sorted(seen)
    link.synced_at = now or utcnow()
    db.session.commit()
    return told


def webhook(payload: dict[str, Any], secret: str | None) -> int:
    """Jira's webhook (issue updated, comment created): same effect as a pull."""
    expected = current_app.config.get("JIRA_WEBHOOK_SECRET") or ""
    if not expected or not secret or not hmac.compare_digest(expected, secret):
        raise PermissionError("bad or missing shared secret")
    issue = payload.get("issue") if isinstance(payload, dict) else None
    key = issue.get("key") if isinstance(issue, dict) else None
    if not isinstance(key, str):
        raise ValueError("the payload names no issue")
    link = db.session.scalar(select(JiraLink).where(JiraLink.issue_key == key))
    if link is None:
        return 0
    fields = issue.get("fields") if isinstance(issue.get("fields"), dict) else {}
    status = (fields.get("status") or {}).get("name") if isinstance(fields, dict) else None
    comments = []
    comment = payload.get("comment")
    if isinstance(comment, dict) and comment.get("id"):
        comments.append(
            {
                "id": str(comment["id"]),
                "body": str(comment.get("body", "")),
                "author": str((comment.get("author") or {}).get("displayName", "Jira")),
            }
        )
    return apply_update(link, status if isinstance(status, str) else None, comments, None)


def link_for_ticket(ticket: Ticket) -> JiraLink | None:
    return db.session.scalar(select(JiraLink).where(JiraLink.ticket_id == ticket.id))


def link_for_onboarding(onboarding: Onboarding) -> JiraLink | None:
    return db.session.scalar(select(JiraLink).where(JiraLink.onboarding_id == onboarding.id))
