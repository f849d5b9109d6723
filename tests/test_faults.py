"""Faults that must lose and double nothing. (Jira down or hanging: test_jira; SMTP down:
test_mail_roundtrip; a paging provider answering 500: test_alerts; the scheduler killed:
test_scheduler_process.) Here: PostgreSQL restarted while merchants open tickets."""

from __future__ import annotations

import pytest
import requests
from sqlalchemy import create_engine, func, select, text

from supportit.db import db
from supportit.models import Ticket
from supportit.services import api_tokens
from tests.e2e.live import serve


def _cut_every_connection(url: str) -> int:
    """What a PostgreSQL restart does to the application: every connection it holds dies."""
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            return len(
                connection.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                ).all()
            )
    finally:
        admin.dispose()


def test_postgresql_restarted_while_merchants_open_tickets(app, world) -> None:
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if not url.startswith("postgresql"):
        pytest.skip("a PostgreSQL fault: it runs in the PostgreSQL pass of .ci/run")
    token = api_tokens.create(world.alice, "load", ["tickets:read", "tickets:write"])[1]
    db.session.remove()
    statuses = []
    # A real server: each request has its own application context and session, as in
    # production, so connections go back to the pool between requests.
    with serve(app) as base, requests.Session() as http:
        for n in range(30):
            if n in (10, 20):
                assert _cut_every_connection(url) >= 1
            response = http.post(
                f"{base}/api/v1/tickets",
                json={"subject": f"Ticket {n}", "body": "Paiement refusé", "category": "run"},
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
            )
            statuses.append(response.status_code)
    # Pre-pinged pools replace the dead connections: no request failed, so none is retried.
    assert statuses == [201] * 30
    db.session.remove()
    subjects = list(db.session.scalars(select(Ticket.subject).order_by(Ticket.id)))
    assert subjects == [f"Ticket {n}" for n in range(30)]  # none lost, none doubled
    assert db.session.scalar(select(func.count(Ticket.id))) == 30
