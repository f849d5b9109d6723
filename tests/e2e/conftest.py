from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from supportit import create_app
from supportit.db import db
from supportit.services import demo
from tests.e2e.live import chromium, serve


@pytest.fixture
def live_app(tmp_path: Path) -> Flask:
    """The real application, CSRF on, with the demo data."""
    app = create_app(
        {
            "INSTANCE_PATH": str(tmp_path),
            "SECRET_KEY": "e2e-secret-key-not-for-production",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'e2e.db'}",
            "ATTACHMENT_DIR": str(tmp_path / "attachments"),
        }
    )
    with app.app_context():
        db.create_all()
        demo.load()
    return app


@pytest.fixture
def live_server(live_app: Flask) -> Iterator[str]:
    """The application served on a loopback port."""
    with serve(live_app) as base_url:
        live_app.config["BASE_URL"] = base_url  # links in pages and mail point at it
        yield base_url


@pytest.fixture(scope="session")
def browser():
    with chromium() as browser:
        yield browser


@pytest.fixture
def new_page(browser, live_server):
    """Pages in fresh French browser contexts; any request leaving loopback fails the test."""
    contexts = []
    outside: list[str] = []

    def make():
        context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
        context.route(
            "**/*",
            lambda route: (
                route.continue_()
                if route.request.url.startswith(live_server)
                else (outside.append(route.request.url), route.abort())
            ),
        )
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
    assert outside == [], f"the pages asked for resources outside the app: {outside}"
