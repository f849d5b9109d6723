"""The scheduler runs its jobs in one process at a time, and survives a failing job."""

from __future__ import annotations

from datetime import timedelta

import time_machine

from supportit import scheduler
from supportit.db import utcnow
from supportit.services.calendar import parse_instant


def test_only_the_lease_holder_runs_the_jobs(app) -> None:
    runs: list[str] = []
    jobs = [scheduler.Job("count", 60, lambda: runs.append("x"))]
    assert scheduler.run_due_jobs(app, "host-a:1", jobs) == ["count"]
    assert scheduler.run_due_jobs(app, "host-b:2", jobs) == []  # a second process waits
    assert scheduler.run_due_jobs(app, "host-a:1", jobs) == ["count"]  # the holder renews
    assert runs == ["x", "x"]


def test_a_dead_holder_loses_the_lease_when_it_expires(app) -> None:
    jobs = [scheduler.Job("noop", 60, lambda: None)]
    start = parse_instant("2026-11-30T10:00:00Z")
    with time_machine.travel(start, tick=False):
        assert scheduler.run_due_jobs(app, "host-a:1", jobs) == ["noop"]
    with time_machine.travel(start + scheduler.LEASE_TTL - timedelta(seconds=1), tick=False):
        assert scheduler.run_due_jobs(app, "host-b:2", jobs) == []
    with time_machine.travel(start + scheduler.LEASE_TTL + timedelta(seconds=1), tick=False):
        assert scheduler.run_due_jobs(app, "host-b:2", jobs) == ["noop"]
        assert utcnow() > start


def test_a_failing_job_does_not_stop_the_others(app) -> None:
    def broken() -> None:
        raise RuntimeError("boom")

    jobs = [scheduler.Job("broken", 60, broken), scheduler.Job("fine", 60, lambda: None)]
    assert scheduler.run_due_jobs(app, "host-a:1", jobs) == ["fine"]


def test_the_cli_runs_the_sla_check_once(app) -> None:
    result = app.test_cli_runner().invoke(args=["monitors", "run", "--once"])
    assert result.exit_code == 0, result.output
    assert "sla-check" in result.output
