"""What operators and their machines read: health, readiness, Prometheus metrics and logs."""

from __future__ import annotations

import io
import json
import logging

import pytest
from sqlalchemy import text

from supportit import observability, scheduler
from supportit.db import db
from supportit.models import Category, JobRun
from supportit.web.ops import _head_revision
from tests import factories
from tests.conftest import make_app


def test_healthz_answers_without_the_database(client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def _stamp(revision: str | None) -> None:
    db.session.execute(text("DROP TABLE IF EXISTS alembic_version"))
    if revision is not None:
        db.session.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32))"))
        db.session.execute(text("INSERT INTO alembic_version VALUES (:r)"), {"r": revision})
    db.session.commit()


def test_readyz_wants_the_database_at_this_release_s_schema(client) -> None:
    _stamp(None)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert "supportit db upgrade" in response.get_json()["checks"]["schema"]
    _stamp("0000older")
    response = client.get("/readyz")
    assert response.status_code == 503
    assert "at 0000older" in response.get_json()["checks"]["schema"]
    _stamp(_head_revision())
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "checks": {"database": "ok", "schema": "ok"}}
    _stamp(None)


def test_readyz_says_when_the_database_does_not_answer(tmp_path) -> None:
    app = make_app(tmp_path, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/missing/dir/x.db")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["database"].startswith("unreachable")


def test_metrics_show_the_desk_and_the_requests(client, world) -> None:
    factories.ticket(world.alice, "Paiements refusés", category=Category.RUN)
    client.get("/help/")
    scheduler.run_due_jobs(client.application, "host-a:1", [_job("sla-check")])
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    body = response.get_data(as_text=True)
    assert 'supportit_tickets_active{category="run",status="new"} 1.0' in body
    assert "supportit_tickets_unassigned 1.0" in body
    # The new ticket's acknowledgement waits in the mail outbox.
    assert 'supportit_outbox_pending{queue="mail"} 1.0' in body
    assert 'supportit_scheduler_job_ok{holder="host-a:1",job="sla-check"} 1.0' in body
    assert "supportit_scheduler_lag_seconds 0.0" in body
    assert 'supportit_http_request_duration_seconds_count{endpoint="help.index"' in body


def _job(name: str, fail: bool = False) -> scheduler.Job:
    def run() -> None:
        if fail:
            raise RuntimeError("boom")

    return scheduler.Job(name, 60, run)


def test_metrics_are_for_the_machine_or_the_token_holder(app, client) -> None:
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 404
    app.config["METRICS_TOKEN"] = "scrape-secret"
    assert client.get("/metrics").status_code == 404
    bad = client.get("/metrics", headers={"Authorization": "Bearer wrong"})
    assert bad.status_code == 404
    good = client.get(
        "/metrics",
        headers={"Authorization": "Bearer scrape-secret"},
        environ_base={"REMOTE_ADDR": "10.1.2.3"},
    )
    assert good.status_code == 200


def test_behind_a_proxy_the_client_address_is_the_forwarded_one(tmp_path) -> None:
    app = make_app(tmp_path, PROXY_HOPS=1)
    client = app.test_client()
    assert client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 404
    direct = make_app(tmp_path / "direct").test_client()
    assert direct.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 200


def test_the_scheduler_records_who_ran_each_job_and_how(app, monkeypatch) -> None:
    monkeypatch.setattr(scheduler, "RECORD_EVERY", 0)
    scheduler.run_due_jobs(app, "host-a:1", [_job("fine"), _job("broken", fail=True)])
    assert scheduler.run_due_jobs(app, "host-b:2", [_job("fine")]) == []  # not the leader
    scheduler.run_due_jobs(app, "host-a:1", [_job("fine")])
    fine, broken = db.session.get(JobRun, "fine"), db.session.get(JobRun, "broken")
    assert (fine.holder, fine.ok, fine.runs) == ("host-a:1", True, 2)
    assert (broken.holder, broken.ok) == ("host-a:1", False)
    assert broken.error == "RuntimeError: boom"


def test_every_response_carries_a_request_id(client) -> None:
    first = client.get("/healthz").headers["X-Request-ID"]
    assert len(first) == 32 and first != client.get("/healthz").headers["X-Request-ID"]
    given = client.get("/healthz", headers={"X-Request-ID": "proxy-42"})
    assert given.headers["X-Request-ID"] == "proxy-42"
    forged = client.get("/healthz", headers={"X-Request-ID": "x" * 500})
    assert forged.headers["X-Request-ID"] != "x" * 500


@pytest.fixture
def root_logging():  # type: ignore[no-untyped-def]
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    yield root
    root.handlers[:], level = saved
    root.setLevel(level)


def test_json_logs_one_object_per_line_with_the_request(tmp_path, root_logging) -> None:
    app = make_app(tmp_path, LOG_FORMAT="json")
    observability.configure_logging(app)
    stream = io.StringIO()
    root_logging.handlers[0].setStream(stream)
    app.test_client().get("/no/such/page", headers={"X-Request-ID": "req-7"})
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    request = next(line for line in lines if line["logger"] == "supportit.request")
    assert request["endpoint"] == "unmatched" and request["status"] == 404
    assert request["request_id"] == "req-7" and request["level"] == "INFO"
    assert "path" not in request  # paths can hold reset tokens


def test_frequent_jobs_are_written_down_every_few_seconds_and_failures_at_once(app) -> None:
    for _ in range(3):
        scheduler.run_due_jobs(app, "host-a:1", [_job("often")])
    assert db.session.get(JobRun, "often").runs == 1  # the first run only, so far
    scheduler.run_due_jobs(app, "host-a:1", [_job("often", fail=True)])
    db.session.expire_all()
    run = db.session.get(JobRun, "often")
    assert (run.ok, run.runs) == (False, 4)  # the failure, with the runs not yet counted
