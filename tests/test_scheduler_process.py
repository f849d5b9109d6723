"""`supportit monitors run` as real processes: one leader among two, a standby that takes over
within 30 s when the leader is killed, and a clean stop on SIGTERM. Runs on SQLite (lease row)
and, in CI's second pass, on PostgreSQL (advisory lock)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from supportit.db import db
from supportit.models import MonitorResult
from supportit.paygate.fake import FakePaygate
from supportit.services import monitoring

SUPPORTIT = str(Path(sys.executable).with_name("supportit"))


class Scheduler:
    def __init__(self, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [SUPPORTIT, "monitors", "run"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line)

    def said(self, text: str) -> bool:
        return any(text in line for line in self.lines)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


def wait_for(condition, timeout: float, what: str) -> float:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)
    return time.monotonic() - started


@pytest.fixture
def env(app, tmp_path) -> dict[str, str]:  # type: ignore[no-untyped-def]
    environment = dict(os.environ)
    environment.update(
        SUPPORTIT_DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
        SUPPORTIT_SECRET_KEY=app.config["SECRET_KEY"],
        SUPPORTIT_INSTANCE_PATH=str(tmp_path / "scheduler-instance"),
        PYTHONUNBUFFERED="1",
    )
    return environment


@pytest.fixture
def stand_in() -> Iterator[str]:
    fake = FakePaygate()
    url = fake.start()
    yield url
    fake.stop()


def results() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(MonitorResult.id))) or 0


def test_one_leader_and_a_standby_that_takes_over(app, env, stand_in) -> None:
    monitoring.save_monitor(
        None,
        monitoring.MonitorInput(
            name="probe",
            kind="http",
            service="payment",
            target=f"{stand_in}/floapay.aspx",
            interval_seconds=10,
            settings={"retries": 0, "timeout": 2},
        ),
    )
    first, second = Scheduler(env), Scheduler(env)
    try:
        wait_for(
            lambda: first.said("is now the leader") or second.said("is now the leader"),
            30,
            "a leader",
        )
        leader, standby = (first, second) if first.said("is now the leader") else (second, first)
        wait_for(lambda: results() >= 1, 20, "a first check")
        time.sleep(6)  # the standby has tried at least once and stayed a standby
        assert not standby.said("is now the leader")
        leader.process.send_signal(signal.SIGKILL)  # no clean stop: the lock must free itself
        leader.process.wait(10)
        took = wait_for(lambda: standby.said("is now the leader"), 35, "the standby to lead")
        assert took <= 30
        before = results()
        wait_for(lambda: results() > before, 20, "checks by the new leader")
    finally:
        first.stop()
        second.stop()


def test_sigterm_stops_cleanly(app, env) -> None:
    scheduler = Scheduler(env)
    try:
        wait_for(lambda: scheduler.said("started with"), 30, "the scheduler to start")
        scheduler.process.send_signal(signal.SIGTERM)
        assert scheduler.process.wait(15) == 0
        assert scheduler.said("stopped")
    finally:
        scheduler.stop()
