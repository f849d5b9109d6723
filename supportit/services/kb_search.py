"""Full-text search of the knowledge base, in French and English, on SQLite and PostgreSQL.

Both sides of the search go through `terms()`: words are stemmed with the Snowball algorithm of
their language (French "annulations" and "annuler" meet at "annul"), then case and accents are
folded, so "Échéance", "echeance" and "échéances" are the same term. The database indexes and
ranks those terms: FTS5 with BM25 on SQLite, a stored tsvector with a GIN index and `ts_rank`
on PostgreSQL. Doing the linguistic part in Python keeps both databases giving the same answers
(PostgreSQL's own French configuration keeps accents unless the `unaccent` extension is
installed, which a managed database may not allow).

A query is an OR of its words' stems, each in both languages, and, while the merchant is still
typing, the last word also as a prefix; the ranking puts articles matching more words, and
matching them in the title, first.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import snowballstemmer
from sqlalchemy import bindparam, func, literal_column, select, text

from supportit.db import db, on_postgresql
from supportit.models import Article, ArticleSearch

_WORD = re.compile(r"[^\W_]+")

# Words that say nothing about the subject, in both languages (a merchant's whole sentence is
# searched while they type a ticket). Folded: no accents.
_STOP_WORDS_TEXT = """
    a au aux avec ce ces cet cette dans de des du elle en est et etre il ils je la le les leur
    lui ma mais me mes mon ne nos notre nous on ou par pas pour qu que qui sa se ses son sur ta
    te tes ton tu un une vos votre vous y c d j l m n s t qu est ete sont avons avez ont fait
    faire peut pouvez comment pourquoi quand bonjour merci cordialement svp probleme lors
    the an and are as at be by for from has have how i in is it its my of on or our so that
    this to was we what when where which why with you your can could would please hello thanks
    do does did not no problem issue
"""
STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())


def fold(text_: str) -> str:
    """Lower case without accents: "Échéance" → "echeance"."""
    decomposed = unicodedata.normalize("NFKD", text_.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@lru_cache(maxsize=2)
def _stemmer(language: str):  # type: ignore[no-untyped-def]
    return snowballstemmer.stemmer("french" if language == "fr" else "english")


@lru_cache(maxsize=100_000)
def _term(word: str, language: str) -> str | None:
    """One lower-case word's term, or None for a stop word. Cached: the Snowball stemmers are
    pure Python, and the same few thousand words come back in every ticket and article."""
    if fold(word) in STOP_WORDS:
        return None
    # Codes and amounts (21000005, 3X) are kept whole; words are stemmed, then folded.
    return fold(word if any(c.isdigit() for c in word) else _stemmer(language).stemWord(word))


def terms(text_: str, language: str) -> list[str]:
    """The index terms of a text written in `language` ("fr" or "en")."""
    found = []
    for word in _WORD.findall(text_.casefold()):
        term = _term(word, language)
        if term is not None:
            found.append(term)
    return found


def document_terms(article: Article) -> tuple[str, str]:
    """(title terms, body terms) of an article, both languages together."""
    title = terms(article.title_fr, "fr") + terms(article.title_en, "en")
    title += [t for tag in article.tags for t in terms(tag, "fr")]
    body = terms(article.summary_fr, "fr") + terms(article.body_fr, "fr")
    body += terms(article.summary_en, "en") + terms(article.body_en, "en")
    body += [t for link in article.doc_links for t in terms(link.get("url", ""), "en")]
    return " ".join(title), " ".join(body)


def index(article: Article) -> None:
    """Write the article's terms; the database's own index follows (triggers, GIN)."""
    title, body = document_terms(article)
    row = db.session.get(ArticleSearch, article.id)
    if row is None:
        row = ArticleSearch(article_id=article.id)
        db.session.add(row)
    row.title_terms, row.body_terms = title, body
    if on_postgresql():
        # Computed by PostgreSQL in the same INSERT or UPDATE the flush sends.
        simple = literal_column("'simple'")
        row.vector = func.setweight(func.to_tsvector(simple, title), literal_column("'A'")).op(
            "||"
        )(func.setweight(func.to_tsvector(simple, body), literal_column("'D'")))


@dataclass(frozen=True)
class Query:
    words: list[str]  # the stems to look for, each once
    prefix: str | None  # the last word as typed, to match as a prefix


def parse_query(raw: str, as_you_type: bool = False) -> Query:
    words = [w for w in _WORD.findall(raw.casefold()) if fold(w) not in STOP_WORDS]
    stems: list[str] = []
    for word in words[:30]:  # a pasted mail is not a query: its first words are enough
        for language in ("fr", "en"):
            for term in terms(word, language):
                if term not in stems:
                    stems.append(term)
    last = fold(words[-1]) if words else ""
    # Only a word still being typed is a prefix; a finished one ("paiement ") is matched whole.
    typing = as_you_type and not raw.endswith((" ", "\n"))
    prefix = last if typing and len(last) >= 3 else None
    return Query(stems, prefix)


@dataclass(frozen=True)
class Hit:
    article_id: int
    score: float


def search_ids(
    raw: str,
    *,
    limit: int = 10,
    category: str | None = None,
    published_only: bool = True,
    as_you_type: bool = False,
) -> list[Hit]:
    """Ranked article ids for a free-text query; empty when nothing searchable is in it.

    `as_you_type`: the text is still being typed, so its last word is also a prefix.
    """
    query = parse_query(raw, as_you_type)
    if not query.words and not query.prefix:
        return []
    if on_postgresql():
        return _search_postgresql(query, limit, category, published_only)
    return _search_sqlite(query, limit, category, published_only)


def _filters(category: str | None, published_only: bool) -> tuple[str, dict[str, object]]:
    where, params = "", {}
    if published_only:
        where += " AND article.published"
    if category:
        where += " AND article.category = :category"
        params["category"] = category
    return where, params


def _search_sqlite(query: Query, limit: int, category: str | None, published: bool) -> list[Hit]:
    # Every term is quoted: the merchant's words never reach FTS5's query syntax.
    parts = [f'"{w}"' for w in query.words]
    if query.prefix:
        parts.append(f'"{query.prefix}"*')
    where, params = _filters(category, published)
    rows = db.session.execute(
        text(
            "SELECT kb_fts.rowid, bm25(kb_fts, 4.0, 1.0) AS rank FROM kb_fts "
            "JOIN article ON article.id = kb_fts.rowid "
            f"WHERE kb_fts MATCH :match{where} ORDER BY rank LIMIT :limit"
        ),
        {"match": " OR ".join(parts), "limit": limit, **params},
    ).all()
    return [Hit(row[0], -float(row[1])) for row in rows]


def _search_postgresql(
    query: Query, limit: int, category: str | None, published: bool
) -> list[Hit]:
    # Terms are [a-z0-9] only after folding, so they are safe inside to_tsquery's syntax.
    parts = [w for w in query.words if w.isalnum()]
    if query.prefix and query.prefix.isalnum():
        parts.append(f"{query.prefix}:*")
    if not parts:
        return []
    tsquery = func.to_tsquery(literal_column("'simple'"), bindparam("q", " | ".join(parts)))
    vector = ArticleSearch.vector
    rank = func.ts_rank(vector, tsquery).label("rank")
    statement = (
        select(ArticleSearch.article_id, rank)
        .join(Article, Article.id == ArticleSearch.article_id)
        .where(vector.op("@@")(tsquery))
        .order_by(rank.desc(), ArticleSearch.article_id)
        .limit(limit)
    )
    if published:
        statement = statement.where(Article.published.is_(True))
    if category:
        statement = statement.where(Article.category == category)
    return [Hit(row[0], float(row[1])) for row in db.session.execute(statement)]
