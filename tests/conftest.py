"""Fixtures: an app per test with its own database, and a world of users.

SQLite (default): a fresh database file per test. PostgreSQL (SUPPORTIT_TEST_DATABASE_URL set):
the schema is created once per run in that database, and every table is emptied between tests.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask, g
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

from supportit import create_app
from supportit.db import db
from supportit.models import Merchant, MerchantEnvironment, MerchantIdentifier, Role, User
from tests import factories

PG_URL = os.environ.get("SUPPORTIT_TEST_DATABASE_URL")
_pg_schema_ready = False


def make_app(tmp_path: Path, **overrides: object) -> Flask:
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "SQLALCHEMY_DATABASE_URI": PG_URL or f"sqlite:///{tmp_path / 'test.db'}",
        "ATTACHMENT_DIR": str(tmp_path / "attachments"),
        "MAIL_DIR": str(tmp_path / "mail"),
        "SUPPORT_ADDRESS": "support-it-floapay@floa.example",
        "MAIL_ALLOWLIST_DOMAINS": frozenset({"partner-allowed.example"}),
        "BASE_URL": "http://support.test",
        "WTF_CSRF_ENABLED": False,
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "ATTACHMENT_MAX_BYTES": 1024 * 1024,
        "MAX_CONTENT_LENGTH": 8 * 1024 * 1024,
        # Tests travel days ahead with a session open; the idle timeout has its own test.
        "SESSION_IDLE_MINUTES": 10**7,
    }
    config.update(overrides)
    app = create_app(config)
    # The fixtures keep one app context for a whole test, so `g` would outlive each request;
    # Flask-Login (the user) and Flask-Babel (the locale) cache on it. A real request starts clean.
    app.teardown_request(_forget_request_globals)
    return app


def _forget_request_globals(error: BaseException | None) -> None:
    for name in list(g):
        g.pop(name)


def _reset_database(app: Flask) -> None:
    global _pg_schema_ready
    with app.app_context():
        if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
            if not _pg_schema_ready:
                db.drop_all()
                db.create_all()
                _pg_schema_ready = True
            tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
            db.session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            db.session.commit()
        else:
            db.create_all()


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    from supportit import scheduler
    from supportit.services import monitoring

    app = make_app(tmp_path)
    _reset_database(app)
    monitoring.forget_windows()  # a process-wide cache: one test's windows are not another's
    scheduler._unrecorded.clear()  # likewise, when each job was last written down
    with app.app_context():
        yield app
        db.session.remove()
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def csrf_app(tmp_path: Path) -> Iterator[Flask]:
    """An app with CSRF protection on, as in production."""
    app = make_app(tmp_path, WTF_CSRF_ENABLED=True)
    _reset_database(app)
    with app.app_context():
        yield app
        db.session.remove()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@dataclass
class World:
    """Two merchants with a user each, two agents and an admin."""

    literie: Merchant
    soleil: Merchant
    alice: User
    bob: User
    agent: User
    agent2: User
    admin: User


@pytest.fixture
def world(app: Flask) -> World:
    literie = Merchant(
        name="Ma Literie",
        products=["3X", "4X"],
        environment=MerchantEnvironment.PRODUCTION,
        identifiers=[MerchantIdentifier(kind="MID", value="maliterie_prod")],
    )
    soleil = Merchant(name="Voyages Soleil", products=["1XD"])
    db.session.add_all([literie, soleil])
    world = World(
        literie=literie,
        soleil=soleil,
        alice=factories.user("alice@maliterie.example", Role.MERCHANT, literie, name="Alice"),
        bob=factories.user("bob@voyages-soleil.example", Role.MERCHANT, soleil, name="Bob"),
        agent=factories.user("agent1@floa.example", Role.AGENT, name="Claire Agent"),
        agent2=factories.user("agent2@floa.example", Role.AGENT, name="Julien Agent"),
        admin=factories.user("admin@floa.example", Role.ADMIN, name="Admin"),
    )
    db.session.commit()
    return world


def login(client: FlaskClient, user: User, password: str = factories.PASSWORD) -> None:
    response = client.post("/login", data={"email": user.email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)


@contextmanager
def postgres_database(server: str, name: str) -> Iterator[str]:
    """A PostgreSQL database of its own on `server` (a URL without the database), made fresh
    and dropped afterwards; yields its URL."""
    admin = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield f"{server}/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


CSRF_RE = re.compile(
    r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"'
)


def csrf_token(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1) or match.group(2)
