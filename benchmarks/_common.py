"""What the benchmark scripts share: throwaway PostgreSQL databases and percentiles."""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, create_engine, text

DEFAULT_PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"


@contextmanager
def _server(url: str) -> Iterator[tuple[Connection, str]]:
    """A connection to the server of `url` (its `postgres` database), and the name `url` names."""
    base, _, name = url.rpartition("/")
    admin = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            yield connection, name
    finally:
        admin.dispose()


def fresh_database(url: str) -> None:
    """Drop and create the database `url` names."""
    with _server(url) as (connection, name):
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))


def database_exists(url: str) -> bool:
    with _server(url) as (connection, name):
        found = connection.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
        ).scalar()
    return bool(found)


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile: the value below which `fraction` of the sample lies."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


SUMMARY_ENV = "SUPPORTIT_BENCH_SUMMARY"


def summary(
    benchmark: str, measure: str, value: float, unit: str, target: str, ok: bool | None
) -> None:
    """One figure for `make bench`'s table (benchmarks/all.py), which sets SUPPORTIT_BENCH_SUMMARY
    to a file; run alone, a script just prints its own report."""
    import json
    import os

    path = os.environ.get(SUMMARY_ENV)
    if not path:
        return
    with open(path, "a", encoding="utf-8") as out:
        out.write(
            json.dumps(
                {
                    "benchmark": benchmark,
                    "measure": measure,
                    "value": value,
                    "unit": unit,
                    "target": target,
                    "ok": ok,
                }
            )
            + "\n"
        )


def _reference_work() -> int:
    """A fixed piece of plain Python (objects, strings, sorting, JSON, a regular expression),
    the kind of work a request or a mail costs outside the database."""
    word = re.compile(r"[a-z]+")
    rows = [
        {"id": i, "subject": f"Paiement {i} refusé", "code": i * 7919 % 10007} for i in range(4000)
    ]
    rows.sort(key=lambda row: (row["code"], row["subject"]))
    text = json.dumps(rows)
    found = sum(len(word.findall(row["subject"])) for row in json.loads(text))
    return found + len(text)


def machine_speed_ms(repeat: int = 15) -> tuple[float, float]:
    """How long the reference work takes on this machine now: the best and the median of
    `repeat` runs, in ms (lower is faster). On a shared virtual machine the same code runs up to
    twice as slow at times, from one second to the next: these figures, taken with the others,
    say whether a missed target is the code or the machine."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        _reference_work()
        times.append((time.perf_counter() - started) * 1000)
    return min(times), percentile(times, 0.5)
