"""Canned replies: ready answers with placeholders, that can refile the ticket and link articles.

Shared replies belong to the team (its author and the admins change them); personal ones to
their agent alone. A reply is written in the ticket's language, French or English, with the
placeholders filled from the ticket; unknown placeholders are refused when the reply is saved,
so that a merchant never receives "{{merchnat}}".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from babel.dates import format_date, format_datetime
from sqlalchemy import select

from supportit.db import db, utcnow
from supportit.i18n import lazy_gettext as _l
from supportit.models import Article, CannedReply, Category, Message, Priority, Status, Ticket, User
from supportit.services import notify, sla, tickets
from supportit.services.errors import ServiceError

PLACEHOLDERS = {
    "merchant": _l("the merchant's name"),
    "requester": _l("the name of whoever opened the ticket"),
    "reference": _l("the ticket's reference (FLOA-000123)"),
    "subject": _l("the ticket's subject"),
    "agent": _l("your name"),
    "next_business_day": _l("the team's next business day"),
    "sla_due": _l("when the ticket's service level falls due"),
    "articles": _l("the linked articles (else they come at the end)"),
}
_PLACEHOLDER_RE = re.compile(r"\{\{\s*([A-Za-z_]+)\s*\}\}")
MAX_TITLE = 120
MAX_ARTICLES = 5


@dataclass
class CannedData:
    """What an agent writes into the canned reply form."""

    title: str
    body_fr: str
    body_en: str = ""
    shared: bool = False
    set_status: Status | None = None
    set_category: Category | None = None
    set_priority: Priority | None = None
    article_slugs: list[str] = field(default_factory=list)


@dataclass
class Rendered:
    """A canned reply written out for one ticket."""

    reply: CannedReply
    language: str
    body: str
    missing_articles: list[str]


def visible_to(user: User) -> list[CannedReply]:
    """The team's replies and the agent's own, most used first."""
    if not user.is_staff:
        return []
    return list(
        db.session.scalars(
            select(CannedReply)
            .where(CannedReply.visible_to(user))
            .order_by(CannedReply.uses.desc(), CannedReply.title, CannedReply.id)
        )
    )


def get_for(user: User, reply_id: int | None) -> CannedReply | None:
    """The reply if this agent may use it; None otherwise (another agent's stays private)."""
    reply = db.session.get(CannedReply, reply_id) if reply_id is not None else None
    return reply if reply is not None and reply.usable_by(user) else None


def placeholders_in(text: str) -> list[str]:
    return [match.group(1) for match in _PLACEHOLDER_RE.finditer(text)]


def _braced(name: str) -> str:
    return "{{" + name + "}}"


def _validate(data: CannedData) -> CannedData:
    data.title = " ".join((data.title or "").split())
    if not data.title:
        raise ServiceError(_l("Give the reply a title."), field="title")
    if len(data.title) > MAX_TITLE:
        raise ServiceError(
            _l("The title is too long (%(max)d characters at most).", max=MAX_TITLE),
            field="title",
        )
    data.body_fr = (data.body_fr or "").strip()
    data.body_en = (data.body_en or "").strip()
    if not data.body_fr:
        raise ServiceError(_l("Write the reply in French at least."), field="body_fr")
    for name in ("body_fr", "body_en"):
        text = getattr(data, name)
        if len(text) > tickets.MAX_BODY_CHARS:
            raise ServiceError(
                _l(
                    "The reply is too long (%(max)d characters at most).",
                    max=tickets.MAX_BODY_CHARS,
                ),
                field=name,
            )
        unknown = sorted(set(placeholders_in(text)) - set(PLACEHOLDERS))
        if unknown:
            raise ServiceError(
                _l(
                    "Unknown placeholder %(names)s. Those available are: %(known)s.",
                    names=", ".join(_braced(n) for n in unknown),
                    known=", ".join(_braced(n) for n in PLACEHOLDERS),
                ),
                field=name,
            )
    slugs = list(dict.fromkeys(s.strip() for s in data.article_slugs if s.strip()))
    if len(slugs) > MAX_ARTICLES:
        raise ServiceError(
            _l("Link %(max)d articles at most.", max=MAX_ARTICLES), field="article_slugs"
        )
    found = set(
        db.session.scalars(
            select(Article.slug).where(Article.slug.in_(slugs), Article.published.is_(True))
        )
    )
    if missing := [s for s in slugs if s not in found]:
        raise ServiceError(
            _l("No published article has the address %(slugs)s.", slugs=", ".join(missing)),
            field="article_slugs",
        )
    data.article_slugs = slugs
    return data


def save(reply: CannedReply | None, data: CannedData, actor: User) -> CannedReply:
    """Create (`reply` None) or change a canned reply."""
    if not actor.is_staff:
        raise ServiceError(_l("Only support agents can do this."))
    if reply is not None and not reply.editable_by(actor):
        raise ServiceError(_l("Only its author or an administrator can change a shared reply."))
    data = _validate(data)
    if reply is None:
        reply = CannedReply(created_by=actor, uses=0)
        db.session.add(reply)
    reply.title = data.title
    if data.shared:
        reply.owner = None
    elif reply.owner is None:
        reply.owner = actor  # a shared reply made personal becomes the agent's who did it
    reply.body_fr = data.body_fr
    reply.body_en = data.body_en
    reply.set_status = data.set_status
    reply.set_category = data.set_category
    reply.set_priority = data.set_priority
    reply.article_slugs = data.article_slugs
    reply.updated_at = utcnow()
    reply.updated_by = actor
    db.session.commit()
    return reply


def delete(reply: CannedReply, actor: User) -> None:
    if not reply.editable_by(actor):
        raise ServiceError(_l("Only its author or an administrator can change a shared reply."))
    db.session.delete(reply)
    db.session.commit()


class _Context:
    """The values of the placeholders for one ticket, computed once for all the replies shown."""

    def __init__(self, ticket: Ticket, agent: User, now: datetime) -> None:
        self.ticket = ticket
        self.agent = agent
        self.now = now
        self.language = notify.language_for(ticket)
        self.calendar = sla.team_calendar()
        self._articles: dict[str, Article] = {}

    def load_articles(self, slugs: set[str]) -> None:
        wanted = slugs - set(self._articles)
        if wanted:
            for article in db.session.scalars(
                select(Article).where(Article.slug.in_(wanted), Article.published.is_(True))
            ):
                self._articles[article.slug] = article

    def article(self, slug: str) -> Article | None:
        return self._articles.get(slug)

    def next_business_day(self) -> date:
        day = self.now.astimezone(self.calendar.zone).date() + timedelta(days=1)
        while not self.calendar.is_working_day(day):
            day += timedelta(days=1)
        return day

    def value(self, name: str) -> str:
        ticket, language = self.ticket, self.language
        if name == "merchant":
            return ticket.merchant.name if ticket.merchant else ""
        if name == "requester":
            return ticket.requester.name if ticket.requester else (ticket.requester_email or "")
        if name == "reference":
            return ticket.reference
        if name == "subject":
            return ticket.subject
        if name == "agent":
            return self.agent.name
        if name == "next_business_day":
            return format_date(self.next_business_day(), format="full", locale=language)
        if name == "sla_due":
            due = ticket.sla_due_at or self.calendar.next_opening(self.now)
            return format_datetime(
                due, "EEEE d MMMM, HH:mm", tzinfo=self.calendar.zone, locale=language
            )
        return ""


def _article_lines(context: _Context, slugs: list[str]) -> tuple[str, list[str]]:
    lines, missing = [], []
    for slug in slugs:
        article = context.article(slug)
        if article is None:
            missing.append(slug)  # unpublished or removed since the reply was written
            continue
        lines.append(
            f"- {article.title(context.language)} : {notify.public_url(f'/help/{article.slug}')}"
        )
        lines += [f"  {link['url']}" for link in article.doc_links]
    return "\n".join(lines), missing


def _render(reply: CannedReply, context: _Context) -> Rendered:
    text = reply.body(context.language)
    articles, missing = _article_lines(context, reply.article_slugs or [])
    has_slot = "articles" in placeholders_in(text)

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        return articles if name == "articles" else context.value(name)

    body = _PLACEHOLDER_RE.sub(fill, text)
    if articles and not has_slot:
        body = f"{body.rstrip()}\n\n{articles}"
    return Rendered(
        reply=reply, language=context.language, body=body.strip(), missing_articles=missing
    )


def render_all(
    replies: list[CannedReply], ticket: Ticket, agent: User, now: datetime | None = None
) -> list[Rendered]:
    """Each reply written out for this ticket, as the agent would send it."""
    context = _Context(ticket, agent, now or utcnow())
    context.load_articles({slug for reply in replies for slug in reply.article_slugs or []})
    return [_render(reply, context) for reply in replies]


def render(
    reply: CannedReply, ticket: Ticket, agent: User, now: datetime | None = None
) -> Rendered:
    return render_all([reply], ticket, agent, now)[0]


def send(
    ticket: Ticket,
    reply: CannedReply,
    agent: User,
    *,
    expected_version: int | None,
    body: str | None = None,
    internal: bool = False,
    uploads: tuple = (),
    new_status: Status | None = None,
    time_spent: int | None = None,
) -> Message:
    """Answer the ticket with this canned reply (as written out, or as the agent edited it) and
    apply what it sets, in one change of the ticket."""
    if get_for(agent, reply.id) is None:
        raise ServiceError(_l("This canned reply is not yours to use."))
    text = body if body is not None else render(reply, ticket, agent).body
    message = tickets.reply(
        ticket,
        agent,
        text,
        internal=internal,
        uploads=uploads,
        new_status=new_status or reply.set_status,
        expected_version=expected_version,
        priority=reply.set_priority,
        category=reply.set_category,
        canned=reply.title,
        time_spent=time_spent,
    )
    # Counted apart from the ticket's change: a popular reply rises in everyone's list.
    db.session.execute(
        CannedReply.__table__.update()
        .where(CannedReply.id == reply.id)
        .values(uses=CannedReply.__table__.c.uses + 1)
    )
    db.session.commit()
    return message
