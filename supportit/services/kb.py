"""The knowledge base: Markdown articles in `kb/` loaded into the database, edited by admins,
searched by merchants and agents, and suggested while a ticket is written.

An article file is front matter (slug, category, tags, the floapay.readme.io pages it rests on,
the date it was last reviewed, title and summary in both languages) followed by the French body
and the English body, each after a line `=== fr ===` or `=== en ===`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import frontmatter
import yaml
from markdown_it import MarkdownIt
from markupsafe import Markup
from sqlalchemy import func, select

from supportit.db import db, utcnow
from supportit.i18n import lazy_gettext as _l
from supportit.models import KB_CATEGORIES, Article, Deflection, Ticket, User
from supportit.services import kb_search
from supportit.services.errors import ServiceError

DOCS_HOST = "https://floapay.readme.io/"
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_BODY_MARK = re.compile(r"^=== (fr|en) ===[ \t]*$", re.MULTILINE)

# CommonMark with raw HTML off: an article edited in the UI cannot carry a script.
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


def render(markdown: str) -> Markup:
    return Markup(_markdown.render(markdown or ""))  # raw HTML is disabled above


# --- files -----------------------------------------------------------------------------------


class ArticleFileError(ServiceError):
    """A `kb/` file that cannot become an article; the message names the file and the field."""


@dataclass
class ArticleData:
    slug: str
    category: str
    title_fr: str
    title_en: str
    summary_fr: str = ""
    summary_en: str = ""
    body_fr: str = ""
    body_en: str = ""
    tags: list[str] = field(default_factory=list)
    doc_links: list[dict[str, str]] = field(default_factory=list)
    reviewed_on: date | None = None
    published: bool = True

    def apply(self, article: Article) -> None:
        for name in self.__dataclass_fields__:
            setattr(article, name, getattr(self, name))


def validate(data: ArticleData) -> ArticleData:
    """Refuse what would make a broken article page; messages in the reader's language."""
    if not _SLUG.match(data.slug or ""):
        raise ServiceError(
            _l("The slug may hold lower-case letters, digits and dashes only."), field="slug"
        )
    if data.category not in KB_CATEGORIES:
        raise ServiceError(
            _l("Unknown category %(value)s.", value=data.category or "—"), field="category"
        )
    for name in ("title_fr", "title_en"):
        value = " ".join((getattr(data, name) or "").split())
        if not value:
            raise ServiceError(
                _l("The article needs a title in French and in English."), field=name
            )
        if len(value) > 200:
            raise ServiceError(_l("The title is too long (200 characters at most)."), field=name)
        setattr(data, name, value)
    for link in data.doc_links:
        url = (link.get("url") or "").strip()
        if not url.startswith(DOCS_HOST):
            raise ServiceError(
                _l("Documentation links must point to %(host)s: %(url)s", host=DOCS_HOST, url=url),
                field="doc_links",
            )
        link["url"] = url
        link["title"] = (link.get("title") or url.removeprefix(DOCS_HOST)).strip()
    data.tags = sorted({" ".join(t.split()) for t in data.tags if t and t.strip()})
    return data


def parse(text: str, source: str = "") -> ArticleData:
    """An article file's text → its data; `ArticleFileError` says what is wrong and where."""
    try:
        post = frontmatter.loads(text)
    except yaml.YAMLError as error:
        raise ArticleFileError(
            _l(
                "%(file)s: the front matter is not valid YAML (%(error)s).",
                file=source,
                error=error,
            )
        ) from None
    meta: dict[str, Any] = dict(post.metadata)
    bodies = _split_bodies(post.content)
    title = meta.get("title") or {}
    summary = meta.get("summary") or {}
    if not isinstance(title, dict) or not isinstance(summary, dict):
        raise ArticleFileError(
            _l("%(file)s: title and summary need a fr: and an en: line.", file=source)
        )
    reviewed = meta.get("reviewed")
    if reviewed is not None and not isinstance(reviewed, date):
        try:
            reviewed = date.fromisoformat(str(reviewed))
        except ValueError:
            raise ArticleFileError(
                _l("%(file)s: reviewed must be a date (YYYY-MM-DD).", file=source)
            ) from None
    docs = []
    for item in meta.get("docs") or []:
        docs.append(dict(item) if isinstance(item, dict) else {"url": str(item), "title": ""})
    data = ArticleData(
        slug=str(meta.get("slug") or Path(source).stem),
        category=str(meta.get("category") or ""),
        title_fr=str(title.get("fr") or ""),
        title_en=str(title.get("en") or ""),
        summary_fr=str(summary.get("fr") or "").strip(),
        summary_en=str(summary.get("en") or "").strip(),
        body_fr=bodies.get("fr", ""),
        body_en=bodies.get("en", ""),
        tags=[str(t) for t in meta.get("tags") or []],
        doc_links=docs,
        reviewed_on=reviewed,
        published=bool(meta.get("published", True)),
    )
    try:
        return validate(data)
    except ServiceError as error:
        raise ArticleFileError(
            _l("%(file)s: %(error)s", file=source, error=error.message), field=error.field
        ) from None


def _split_bodies(content: str) -> dict[str, str]:
    marks = list(_BODY_MARK.finditer(content))
    if not marks:
        return {"fr": content.strip()}
    bodies = {}
    for mark, following in zip(marks, [*marks[1:], None], strict=True):
        end = following.start() if following else len(content)
        bodies[mark.group(1)] = content[mark.end() : end].strip()
    return bodies


def to_markdown(article: Article) -> str:
    """The article as a `kb/` file, so an edit made in the UI can go back into the repository."""
    meta: dict[str, Any] = {
        "slug": article.slug,
        "category": article.category,
        "tags": list(article.tags),
        "docs": [
            {"url": link["url"], "title": link.get("title", "")} for link in article.doc_links
        ],
        "reviewed": article.reviewed_on,
        "title": {"fr": article.title_fr, "en": article.title_en},
        "summary": {"fr": article.summary_fr, "en": article.summary_en},
    }
    if not article.published:
        meta["published"] = False
    head = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, width=100)
    bodies = f"=== fr ===\n{article.body_fr.strip()}\n\n=== en ===\n{article.body_en.strip()}\n"
    return f"---\n{head}---\n{bodies}"


@dataclass
class SyncResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0
    kept_ui_edits: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def sync(directory: Path, *, force: bool = False) -> SyncResult:
    """Load every `*.md` under `directory` (README.md aside); running it twice changes nothing.

    A file that cannot be read is reported and skipped; the others still load. An article
    edited in the UI since its last sync keeps the UI's version unless `force`: export it first.
    An article whose file disappeared is unpublished, not deleted (links to it keep working).
    """
    result = SyncResult()
    seen: set[str] = set()
    for path in sorted(directory.rglob("*.md")):
        if path.name.lower() == "readme.md":
            continue
        source = str(path.relative_to(directory))
        raw = path.read_bytes()
        digest = hashlib.sha256(raw).hexdigest()
        try:
            data = parse(raw.decode("utf-8"), source)
        except UnicodeDecodeError:
            result.errors.append(f"{source}: not UTF-8 text")
            continue
        except ServiceError as error:
            result.errors.append(str(error.message))
            continue
        if data.slug in seen:
            result.errors.append(f"{source}: slug {data.slug} is already used by another file")
            continue
        seen.add(data.slug)
        article = db.session.scalar(select(Article).where(Article.slug == data.slug))
        if article is not None and article.source_hash == digest and not article.edited_in_ui:
            result.unchanged += 1
            continue
        if article is not None and article.edited_in_ui and not force:
            result.kept_ui_edits.append(data.slug)
            continue
        if article is None:
            article = Article(slug=data.slug)
            db.session.add(article)
            result.created.append(data.slug)
        else:
            result.updated.append(data.slug)
        data.apply(article)
        article.source_path, article.source_hash = source, digest
        article.edited_in_ui = False
        article.updated_at = utcnow()
        db.session.flush()
        kb_search.index(article)
    for article in db.session.scalars(select(Article).where(Article.source_path.is_not(None))):
        if article.slug not in seen and article.published and not article.edited_in_ui:
            article.published = False
            result.retired.append(article.slug)
    db.session.commit()
    return result


def export(directory: Path, slugs: Iterable[str] | None = None) -> list[Path]:
    """Write articles back as files (all, or the given slugs) under `directory/<category>/`."""
    statement = select(Article).order_by(Article.slug)
    if slugs:
        statement = statement.where(Article.slug.in_(list(slugs)))
    written = []
    for article in db.session.scalars(statement):
        path = directory / (article.source_path or f"{article.category}/{article.slug}.md")
        path.parent.mkdir(parents=True, exist_ok=True)
        text = to_markdown(article)
        path.write_text(text, encoding="utf-8")
        article.source_path = str(path.relative_to(directory))
        article.source_hash = hashlib.sha256(text.encode("utf-8")).hexdigest()
        article.edited_in_ui = False
        written.append(path)
    db.session.commit()
    return written


# --- editing in the UI -----------------------------------------------------------------------


def save(article: Article | None, data: ArticleData, actor: User) -> Article:
    if not actor.is_admin:
        raise ServiceError(_l("Only administrators edit the knowledge base."))
    validate(data)
    clash = db.session.scalar(
        select(Article.id).where(
            Article.slug == data.slug, Article.id != (article.id if article else 0)
        )
    )
    if clash is not None:
        raise ServiceError(_l("Another article already uses this slug."), field="slug")
    if article is None:
        article = Article(slug=data.slug)
        db.session.add(article)
    data.apply(article)
    article.edited_in_ui = True
    article.updated_at = utcnow()
    article.updated_by_id = actor.id
    db.session.flush()
    kb_search.index(article)
    db.session.commit()
    return article


def parse_doc_links(text: str) -> list[dict[str, str]]:
    """The form's links: one per line, `URL` or `URL title`."""
    links = []
    for line in text.splitlines():
        url, _, title = line.strip().partition(" ")
        if url:
            links.append({"url": url, "title": title.strip()})
    return links


# --- reading ---------------------------------------------------------------------------------


def by_slug(slug: str, *, published_only: bool = True) -> Article | None:
    statement = select(Article).where(Article.slug == slug)
    if published_only:
        statement = statement.where(Article.published.is_(True))
    return db.session.scalar(statement)


def search(
    query: str,
    *,
    limit: int = 10,
    category: str | None = None,
    published_only: bool = True,
    as_you_type: bool = False,
) -> list[Article]:
    hits = kb_search.search_ids(
        query,
        limit=limit,
        category=category,
        published_only=published_only,
        as_you_type=as_you_type,
    )
    if not hits:
        return []
    found = {
        a.id: a
        for a in db.session.scalars(
            select(Article).where(Article.id.in_([h.article_id for h in hits]))
        )
    }
    return [found[h.article_id] for h in hits if h.article_id in found]


def by_category(category: str) -> list[Article]:
    return list(
        db.session.scalars(
            select(Article)
            .where(Article.category == category, Article.published.is_(True))
            .order_by(Article.title_fr)
        )
    )


def doc_urls() -> list[str]:
    """The floapay.readme.io pages published articles link to, each once (the doclinks monitor)."""
    urls = {
        link["url"]
        for links in db.session.scalars(select(Article.doc_links).where(Article.published))
        for link in links
    }
    return sorted(urls)


def category_counts() -> dict[str, int]:
    rows = db.session.execute(
        select(Article.category, func.count())
        .where(Article.published.is_(True))
        .group_by(Article.category)
    )
    return {category: count for category, count in rows}


def popular(limit: int = 6) -> list[Article]:
    return list(
        db.session.scalars(
            select(Article)
            .where(Article.published.is_(True))
            .order_by(Article.views.desc(), Article.slug)
            .limit(limit)
        )
    )


def record_view(article: Article) -> None:
    # An UPDATE of the counter, not a read-modify-write: concurrent readers all count.
    db.session.execute(
        Article.__table__.update().where(Article.id == article.id).values(views=Article.views + 1)
    )
    db.session.commit()


def suggest_for_ticket(
    ticket: Ticket, limit: int = 5, texts: list[tuple[bool, str]] | None = None
) -> list[Article]:
    """Articles for the agent beside a ticket: its subject and first message, its queue first.
    `texts`: the ticket's message_texts(), when the caller has them already."""
    texts = ticket.message_texts() if texts is None else texts
    first = next((body for internal, body in texts if not internal), "")
    query = f"{ticket.subject} {first[:600]}"
    found = search(query, limit=limit * 2)
    category = ticket.category.value if ticket.category else None
    # Same-queue articles first, keeping the search's order within each group.
    found.sort(key=lambda a: a.category != category)
    return found[:limit]


def insertion_text(article: Article, language: str, url: str) -> str:
    """What one click puts into the agent's reply: title, summary, the help page, the docs."""
    lines = [article.title(language), "", article.summary(language), "", url]
    lines += [link["url"] for link in article.doc_links]
    return "\n".join(lines).strip()


# --- deflection ------------------------------------------------------------------------------


def deflect(user: User, article: Article, subject: str, category: str | None) -> Deflection:
    """The merchant said an article solved the problem: no ticket, and the KPIs count it."""
    if not user.is_merchant:
        raise ServiceError(_l("Only merchants can close a question this way."))
    deflection = Deflection(
        article_id=article.id,
        merchant_id=user.merchant_id,
        user_id=user.id,
        subject=" ".join((subject or "").split())[:200],
        category=category if category in KB_CATEGORIES else None,
    )
    db.session.add(deflection)
    db.session.commit()
    return deflection


def deflections_between(start: datetime, end: datetime, merchant_id: int | None = None) -> int:
    statement = select(func.count(Deflection.id)).where(Deflection.at >= start, Deflection.at < end)
    if merchant_id is not None:
        statement = statement.where(Deflection.merchant_id == merchant_id)
    return db.session.scalar(statement) or 0
