"""benchmarks/compare.py: two versions of the code on one benchmark, interleaved."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from benchmarks.compare import first_in_round, table

ROOT = Path(__file__).resolve().parent.parent


def _compare(*arguments: str) -> subprocess.CompletedProcess[str]:
    """`python -m benchmarks.compare ARGUMENTS` from the project's root, as a person runs it."""
    return subprocess.run(
        [sys.executable, "-m", "benchmarks.compare", *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_version_that_runs_first_alternates() -> None:
    # In a fixed order the first process of each round read 15-19% slower on the same code.
    assert [first_in_round(n) for n in range(4)] == [
        ("base", "new"),
        ("new", "base"),
        ("base", "new"),
        ("new", "base"),
    ]


def test_the_table_gives_medians_ranges_and_the_change() -> None:
    runs = {
        "base": [{"mail filed (messages/s)": v} for v in (100.0, 120.0, 110.0)],
        "new": [{"mail filed (messages/s)": v} for v in (130.0, 121.0, 140.0)],
    }
    header, row = table(runs)
    assert "base: median (range)" in header
    assert "110.0 (100.0 to 120.0)" in row and "130.0 (121.0 to 140.0)" in row
    assert row.endswith("+18.2%")


def test_a_measure_one_version_does_not_print_is_shown_as_such() -> None:
    runs = {"base": [{"a (ms)": 1.0}], "new": [{"b (ms)": 2.0}]}
    assert "not printed" in table(runs)[1]


def test_it_compares_a_revision_with_the_working_tree() -> None:
    completed = _compare("HEAD", "--rounds", "2", "paygate", "--requests", "30")
    assert completed.returncode == 0, completed.stderr
    assert "2 interleaved rounds" in completed.stdout
    assert "requests inspected, one core (requests/s)" in completed.stdout
    # The temporary worktree is gone again.
    worktrees = subprocess.run(
        ["git", "worktree", "list"], cwd=ROOT, capture_output=True, text=True
    ).stdout
    assert "supportit-compare-" not in worktrees


def test_an_unknown_revision_is_a_clear_error() -> None:
    completed = _compare("no-such-revision", "paygate")
    assert completed.returncode != 0
    assert "git could not check 'no-such-revision' out" in completed.stderr


def test_no_round_is_a_clear_error() -> None:
    completed = _compare("HEAD", "--rounds", "0", "paygate")
    assert completed.returncode != 0 and "--rounds: at least 1" in completed.stderr
