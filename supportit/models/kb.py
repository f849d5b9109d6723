"""The knowledge base: articles in French and English that point to floapay.readme.io, their
search index, and the tickets merchants did not need to open because an article answered them.

The search index is a plain table of normalised, stemmed terms (`ArticleSearch`) that both
databases index their own way: an FTS5 table kept in step by triggers on SQLite, a stored
tsvector with a GIN index on PostgreSQL. See `supportit/services/kb_search.py`.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import DDL, JSON, ForeignKey, String, Text, event
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column, relationship

from supportit.db import UTCDateTime, db, utcnow
from supportit.models.merchant import Merchant
from supportit.models.ticket import FTS_TABLES, PG_SEARCH_INDEXES
from supportit.models.user import User

# "general" holds what belongs to no queue: business hours, how to open a good ticket.
KB_CATEGORIES = ("onboarding", "integration", "run", "order_management", "general")


class Article(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    category: Mapped[str] = mapped_column(String(20), index=True)
    title_fr: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    summary_fr: Mapped[str] = mapped_column(Text, default="")
    summary_en: Mapped[str] = mapped_column(Text, default="")
    body_fr: Mapped[str] = mapped_column(Text, default="")
    body_en: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    # [{"url": "https://floapay.readme.io/reference/...", "title": "..."}]
    doc_links: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    reviewed_on: Mapped[date | None]
    published: Mapped[bool] = mapped_column(default=True)
    # Where it came from: the file's hash at the last `kb sync`, and whether the UI changed it
    # since (then a sync keeps the UI's version unless forced, and says so).
    source_path: Mapped[str | None] = mapped_column(String(300))
    source_hash: Mapped[str | None] = mapped_column(String(64))
    edited_in_ui: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    views: Mapped[int] = mapped_column(default=0)

    updated_by: Mapped[User | None] = relationship()

    def title(self, language: str) -> str:
        return self.title_en if language == "en" and self.title_en else self.title_fr

    def summary(self, language: str) -> str:
        return self.summary_en if language == "en" and self.summary_en else self.summary_fr

    def body(self, language: str) -> str:
        return self.body_en if language == "en" and self.body_en else self.body_fr


class ArticleSearch(db.Model):
    """An article's searchable terms, accent-free and stemmed in both languages."""

    article_id: Mapped[int] = mapped_column(
        ForeignKey("article.id", ondelete="CASCADE"), primary_key=True
    )
    title_terms: Mapped[str] = mapped_column(Text, default="")
    body_terms: Mapped[str] = mapped_column(Text, default="")
    # PostgreSQL: the terms as a weighted tsvector (title A, body D), stored so that ranking
    # reads it instead of parsing the text of every matching article again. Unused on SQLite.
    vector: Mapped[str | None] = mapped_column(Text().with_variant(TSVECTOR(), "postgresql"))


# SQLite: an FTS5 index over `article_search`, kept in step by triggers (the "external content"
# pattern of the FTS5 manual), so writing the terms table is all the service ever does.
SQLITE_FTS = [
    "CREATE VIRTUAL TABLE kb_fts USING fts5(title_terms, body_terms, "
    "content='article_search', content_rowid='article_id', tokenize='unicode61')",
    "CREATE TRIGGER kb_fts_ai AFTER INSERT ON article_search BEGIN "
    "INSERT INTO kb_fts(rowid, title_terms, body_terms) "
    "VALUES (new.article_id, new.title_terms, new.body_terms); END",
    "CREATE TRIGGER kb_fts_ad AFTER DELETE ON article_search BEGIN "
    "INSERT INTO kb_fts(kb_fts, rowid, title_terms, body_terms) "
    "VALUES ('delete', old.article_id, old.title_terms, old.body_terms); END",
    "CREATE TRIGGER kb_fts_au AFTER UPDATE ON article_search BEGIN "
    "INSERT INTO kb_fts(kb_fts, rowid, title_terms, body_terms) "
    "VALUES ('delete', old.article_id, old.title_terms, old.body_terms); "
    "INSERT INTO kb_fts(rowid, title_terms, body_terms) "
    "VALUES (new.article_id, new.title_terms, new.body_terms); END",
]
SQLITE_FTS_DROP = [
    "DROP TRIGGER IF EXISTS kb_fts_au",
    "DROP TRIGGER IF EXISTS kb_fts_ad",
    "DROP TRIGGER IF EXISTS kb_fts_ai",
    "DROP TABLE IF EXISTS kb_fts",
]
for _statement in SQLITE_FTS:
    event.listen(
        ArticleSearch.__table__, "after_create", DDL(_statement).execute_if(dialect="sqlite")
    )
for _statement in SQLITE_FTS_DROP:
    event.listen(
        ArticleSearch.__table__, "before_drop", DDL(_statement).execute_if(dialect="sqlite")
    )
POSTGRESQL_INDEX = "CREATE INDEX ix_article_search_vector ON article_search USING gin (vector)"
event.listen(
    ArticleSearch.__table__, "after_create", DDL(POSTGRESQL_INDEX).execute_if(dialect="postgresql")
)


def is_fts_table(name: str) -> bool:
    """FTS5's own tables, which the models do not describe (migrations leave them alone)."""
    return any(name == t or name.startswith(f"{t}_") for t in ("kb_fts", *FTS_TABLES))


# Indexes migrations compare by hand: database-specific search structures the models do not
# declare, and expression indexes, which autogenerate cannot reflect.
SEARCH_INDEXES = frozenset({"ix_article_search_vector", "ix_ticket_sla_order", *PG_SEARCH_INDEXES})


class Deflection(db.Model):
    """A ticket a merchant did not open: an article suggested while typing answered it."""

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    article_id: Mapped[int | None] = mapped_column(ForeignKey("article.id", ondelete="SET NULL"))
    merchant_id: Mapped[int | None] = mapped_column(
        ForeignKey("merchant.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    subject: Mapped[str] = mapped_column(String(200), default="")
    category: Mapped[str | None] = mapped_column(String(20))

    article: Mapped[Article | None] = relationship()
    merchant: Mapped[Merchant | None] = relationship()
