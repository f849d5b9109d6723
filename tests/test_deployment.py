"""The production shape of docs/deploy.md, started for real: gunicorn with two workers and two
scheduler processes on a PostgreSQL database of their own, migrated by `supportit db upgrade`.

Pages are served by both workers; one scheduler runs the jobs while the other waits; killing
the leader hands the jobs to the standby. It needs the PostgreSQL server of the machine (it
makes its own database) and runs once, in the SQLite pass of the suite.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, select
from sqlalchemy.exc import OperationalError

from supportit import PROJECT_ROOT
from supportit.models import JobRun
from tests.conftest import postgres_database
from tests.test_scheduler_process import Scheduler, wait_for

BIN = Path(sys.executable).parent
SERVER = os.environ.get(
    "SUPPORTIT_DEPLOY_TEST_SERVER", "postgresql+psycopg://postgres@127.0.0.1:5432"
)

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("SUPPORTIT_TEST_DATABASE_URL")),
    reason="runs once, in the SQLite pass (it makes its own PostgreSQL database)",
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def database() -> Iterator[str]:
    try:
        with postgres_database(SERVER, f"supportit_deploy_{uuid.uuid4().hex[:8]}") as url:
            yield url
    except OperationalError:
        pytest.skip("no PostgreSQL server on 127.0.0.1:5432")


@pytest.fixture
def env(database: str, tmp_path: Path) -> dict[str, str]:
    environment = dict(os.environ)
    environment.update(
        SUPPORTIT_ENV="production",
        SUPPORTIT_DATABASE_URL=database,
        SUPPORTIT_SECRET_KEY="deployment-test-secret-key",
        SUPPORTIT_INSTANCE_PATH=str(tmp_path / "instance"),
        SUPPORTIT_LOG_FORMAT="json",
        SUPPORTIT_CLASSIFY_CORPUS="",
        PYTHONUNBUFFERED="1",
    )
    upgrade = subprocess.run(
        [str(BIN / "supportit"), "db", "upgrade"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert upgrade.returncode == 0, upgrade.stderr
    return environment


class Gunicorn:
    def __init__(self, env: dict[str, str], workers: int) -> None:
        self.port = _free_port()
        self.process = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "--workers",
                str(workers),
                "--threads",
                "2",
                "--worker-class",
                "gthread",
                "--bind",
                f"127.0.0.1:{self.port}",
                "wsgi:app",
            ],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def served_by(self, endpoint: str) -> set[int]:
        pids = set()
        for line in list(self.lines):
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if record.get("endpoint") == endpoint:
                pids.add(record["worker_pid"])
        return pids

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()


def _ready(server: Gunicorn) -> bool:
    try:
        return requests.get(server.url("/readyz"), timeout=10).status_code == 200
    except (requests.ConnectionError, requests.Timeout):
        return False


def _hammer(server: Gunicorn, path: str) -> None:
    """Many short connections at once: the kernel hands them to every worker."""
    failures: list[int] = []

    def fetch() -> None:
        for _ in range(10):
            status = requests.get(server.url(path), timeout=10).status_code
            if status != 200:
                failures.append(status)

    threads = [threading.Thread(target=fetch) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures


def _holders(database: str) -> set[str]:
    engine = create_engine(database)
    try:
        with engine.connect() as connection:
            return set(connection.scalars(select(JobRun.holder)))
    finally:
        engine.dispose()


def test_two_web_workers_serve_and_one_of_two_schedulers_leads(database, env) -> None:
    web = Gunicorn(env, workers=2)
    first, second = Scheduler(env), Scheduler(env)
    try:
        wait_for(lambda: _ready(web), 60, "gunicorn to answer /readyz")

        for _ in range(5):
            _hammer(web, "/help/")
            if len(web.served_by("help.index")) >= 2:
                break
        assert len(web.served_by("help.index")) == 2, "every page went to the same worker"

        wait_for(
            lambda: first.said("is now the leader") or second.said("is now the leader"),
            30,
            "a leader",
        )
        leader, standby = (first, second) if first.said("is now the leader") else (second, first)
        leader_id = f"{socket.gethostname()}:{leader.process.pid}"
        wait_for(lambda: bool(_holders(database)), 30, "the leader's first jobs")
        time.sleep(6)  # the standby has tried at least once
        assert _holders(database) == {leader_id}
        assert not standby.said("is now the leader")

        leader.process.send_signal(signal.SIGKILL)  # no clean stop: the lock frees itself
        leader.process.wait(10)
        wait_for(lambda: standby.said("is now the leader"), 35, "the standby to lead")
        standby_id = f"{socket.gethostname()}:{standby.process.pid}"
        wait_for(lambda: standby_id in _holders(database), 30, "jobs run by the new leader")
    finally:
        web.stop()
        first.stop()
        second.stop()
