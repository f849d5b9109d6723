from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from supportit import create_app
from supportit.db import db
from supportit.services import demo
from tests.e2e.live import chromium, serve


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[str]:
    """The real application, CSRF on, with the demo data, on a loopback port."""
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
    with serve(app) as base_url:
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
