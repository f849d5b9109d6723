"""SQLite's write lock: taken at a transaction's first write, retried often, given up after the
same five seconds as SQLite's own busy timeout."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, exc, text

from supportit import db as db_module


@pytest.fixture
def database(tmp_path: Path) -> Iterator[tuple[Engine, sqlite3.Connection]]:
    """An engine, and a second connection to the same file standing for another process."""
    path = tmp_path / "lock.db"
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE mail (id INTEGER PRIMARY KEY, subject TEXT)"))
    other = sqlite3.connect(path, isolation_level=None, timeout=0)
    yield engine, other
    other.close()
    engine.dispose()


class FakeTime:
    """The clock and the sleeps of the lock's loop: no test waits, and none depends on speed."""

    def __init__(self, on_sleep: object = None) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []
        self.on_sleep = on_sleep

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += 1.0
        if callable(self.on_sleep):
            self.on_sleep()


def test_a_write_takes_the_lock_as_soon_as_the_other_writer_commits(database, monkeypatch):
    engine, other = database
    other.execute("BEGIN IMMEDIATE")  # the other process is writing
    other.execute("INSERT INTO mail (subject) VALUES ('first')")
    clock = FakeTime(on_sleep=lambda: other.execute("COMMIT") if other.in_transaction else None)
    monkeypatch.setattr(db_module, "time", clock)

    with engine.begin() as connection:
        connection.execute(text("INSERT INTO mail (subject) VALUES ('second')"))

    # One short pause, not SQLite's own sleeps of 1 ms, then 2, then 5...
    assert clock.sleeps == [pytest.approx(0.0002)]
    with engine.connect() as connection:
        assert connection.execute(text("SELECT subject FROM mail ORDER BY id")).scalars().all() == [
            "first",
            "second",
        ]
        # The usual timeout is back for everything else the connection does.
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 5000


def test_a_writer_gives_up_after_the_busy_timeout_with_the_usual_error(database, monkeypatch):
    engine, other = database
    other.execute("BEGIN IMMEDIATE")  # and never commits
    clock = FakeTime()
    monkeypatch.setattr(db_module, "time", clock)

    with engine.connect() as connection:
        with pytest.raises(exc.OperationalError, match="database is locked"):
            connection.execute(text("INSERT INTO mail (subject) VALUES ('lost?')"))
        connection.rollback()
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 5000
    assert 5 <= len(clock.sleeps) <= 6  # five seconds of tries, on the fake clock
    other.execute("ROLLBACK")


def test_reads_take_no_lock_and_a_transaction_holds_it_from_its_first_write(database):
    engine, other = database
    with engine.connect() as connection:
        connection.execute(text("SELECT count(*) FROM mail")).scalar()
        # Not inside a transaction: the other process can still write.
        other.execute("INSERT INTO mail (subject) VALUES ('meanwhile')")
        connection.execute(text("INSERT INTO mail (subject) VALUES ('ours')"))
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        connection.commit()
    other.execute("BEGIN IMMEDIATE")
    other.execute("ROLLBACK")


def test_a_write_fails_at_once_on_an_error_other_than_a_busy_lock(database, monkeypatch):
    engine, _ = database
    clock = FakeTime()
    monkeypatch.setattr(db_module, "time", clock)
    with engine.begin() as connection, pytest.raises(exc.OperationalError, match="no such"):
        connection.execute(text("INSERT INTO nowhere (subject) VALUES ('x')"))
    assert clock.sleeps == []
