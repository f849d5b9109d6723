"""The JSON shapes of the API, as the OpenAPI document describes them (a test holds both)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import url_for

from supportit.models import Article, Incident, Merchant, Message, Monitor, Ticket


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _value(member: Any) -> str | None:
    return member.value if member is not None else None


def ticket(t: Ticket, *, detail: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "reference": t.reference,
        "subject": t.subject,
        "status": t.status.value,
        "category": t.category.value,
        "priority": t.priority.value,
        "merchant": t.merchant.name if t.merchant else None,
        "created_at": _time(t.created_at),
        "updated_at": _time(t.updated_at),
        "version": t.version,
    }
    if detail:
        data.update(
            environment=_value(t.environment),
            product=_value(t.product),
            ref_nr=t.ref_nr,
            trans_id=t.trans_id,
            pay_id=t.pay_id,
            first_response_at=_time(t.first_response_at),
            resolved_at=_time(t.resolved_at),
            closed_at=_time(t.closed_at),
            # A merged duplicate: its conversation lives on in this ticket.
            merged_into=t.merged_into.reference if t.merged_into else None,
        )
    return data


def message(m: Message, reference: str) -> dict[str, Any]:
    return {
        "id": m.id,
        "author": m.author.name if m.author else (m.author_email or None),
        "from_support": bool(m.author and m.author.is_staff),
        "internal": m.internal,
        "source": m.source.value,
        "body": m.body_text,
        "created_at": _time(m.created_at),
        "attachments": [
            {
                "id": a.id,
                "filename": a.filename,
                "content_type": a.content_type,
                "size": a.size,
                "url": url_for("api.attachment", reference=reference, attachment_id=a.id),
            }
            for a in m.attachments
        ],
    }


def merchant(m: Merchant) -> dict[str, Any]:
    return {
        "id": m.id,
        "name": m.name,
        "country": m.country,
        "language": m.language,
        "environment": _value(m.environment),
        "products": list(m.products or []),
    }


def monitor(m: Monitor) -> dict[str, Any]:
    return {
        "id": m.id,
        "name": m.name,
        "kind": m.kind.value,
        "service": m.service,
        "state": _value(m.state),
        "paused": m.paused,
        "last_checked_at": _time(m.last_checked_at),
    }


def incident(i: Incident) -> dict[str, Any]:
    return {
        "id": i.id,
        "title": i.title,
        "status": i.status.value,
        "worst": i.worst.value,
        "monitor": i.monitor.name,
        "opened_at": _time(i.opened_at),
        "resolved_at": _time(i.resolved_at),
    }


def shift(s) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return {
        "layer": s.rotation.layer,
        "rotation": s.rotation.name,
        "name": s.user.name if s.user else None,
        "email": s.user.email if s.user else None,
        "starts_at": _time(s.starts_at),
        "ends_at": _time(s.ends_at),
        "override": s.override is not None,
    }


def article(a: Article, language: str) -> dict[str, Any]:
    return {
        "slug": a.slug,
        "category": a.category,
        "title": a.title(language),
        "summary": a.summary(language),
        "url": url_for("help.article", slug=a.slug, _external=True),
        "docs": [{"url": d["url"], "title": d.get("title", "")} for d in a.doc_links],
    }
