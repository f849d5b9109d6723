"""How an application context's transaction ends: reads with COMMIT on PostgreSQL, so that
psycopg keeps the statements it prepared (on the connection the pool hands out next);
anything written and not committed, rolled back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, insert, select, text

from supportit.db import db
from supportit.models import Merchant
from tests.conftest import login, make_app


@pytest.fixture
def own_contexts(app: Flask, world, tmp_path: Path) -> Iterator[Flask]:  # type: ignore[no-untyped-def]
    """A second application on the same database whose requests push their own application
    context, as in production (the `app` fixture keeps one for a whole test)."""
    other = make_app(tmp_path)
    yield other
    with other.app_context():
        db.engine.dispose()


def _merchants_named(name: str) -> int:
    db.session.rollback()  # a fresh snapshot, whatever the test's session saw before
    return db.session.scalar(select(func.count()).where(Merchant.name == name)) or 0


def test_requests_that_only_read_keep_the_statements_psycopg_prepared(own_contexts, world):
    if own_contexts.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("psycopg's prepared statements: PostgreSQL only")
    client = own_contexts.test_client()
    login(client, world.agent)
    with own_contexts.app_context():  # a pool of two connections, as after a busy moment
        first, second = db.engine.connect(), db.engine.connect()
        first.close()
        second.close()
    # psycopg prepares a statement run five times on a connection. The pool hands requests
    # the connection used last, not each connection in turn, whose runs would then be split.
    for _ in range(7):
        assert client.get("/queue/").status_code == 200
        # A search reads through a CTE (WITH … SELECT): reads too.
        assert client.get("/queue/?view=all&q=paiement").status_code == 200
    with own_contexts.app_context():
        prepared = db.session.scalar(text("SELECT count(*) FROM pg_prepared_statements"))
    # Each request ended with ROLLBACK before, after which psycopg deallocated them all.
    assert prepared and prepared > 5


def test_what_a_context_wrote_and_did_not_commit_is_rolled_back(own_contexts):
    with own_contexts.app_context():
        db.session.add(Merchant(name="Flushed, never committed"))
        db.session.flush()
    with own_contexts.app_context():
        db.session.add(Merchant(name="Added, never flushed"))
    with own_contexts.app_context():
        db.session.execute(insert(Merchant.__table__).values(name="Written by a statement"))
        # Then only reads: the transaction still wrote.
        db.session.scalar(select(func.count()).select_from(Merchant))
    for name in ("Flushed, never committed", "Added, never flushed", "Written by a statement"):
        assert _merchants_named(name) == 0


def test_a_context_that_failed_is_not_committed(own_contexts):
    with pytest.raises(RuntimeError), own_contexts.app_context():
        db.session.scalar(select(func.count()).select_from(Merchant))
        db.session.add(Merchant(name="Before the error"))
        raise RuntimeError("the view failed")
    assert _merchants_named("Before the error") == 0
