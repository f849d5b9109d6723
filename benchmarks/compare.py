"""Two versions of the code on one benchmark, interleaved: the way docs/performance.md compares.

    python -m benchmarks.compare BASE [--rounds 6] BENCHMARK [ARGS...]
    python -m benchmarks.compare 2b41783 intake --mails 1000
    python -m benchmarks.compare main~3 --rounds 4 queue --tickets 100000 --repeat 10

Runs `python -m benchmarks.BENCHMARK ARGS` on BASE (a git revision, checked out in a temporary
worktree) and on this working tree, one after the other, `--rounds` times each, and prints each
figure's median and range for both. On a shared machine whose speed changes from one minute to
the next, single runs of two versions compare the minutes more than the code: interleaving
spreads the slow minutes over both. Which version goes first alternates from round to round: in
a fixed order, the same code read 15-19% slower in the first process of each round.

The worktree shares this one's build/ directory, so that the queue's 100,000-ticket databases
are built once; its PostgreSQL databases are shared too. Both versions must then read the same
schema: compare revisions without a migration between them.
"""

from __future__ import annotations

import sys

if not __package__:  # run as a file, benchmarks/ would come first on the import path, where
    # queue.py hides the standard library's queue module from every library that imports it
    sys.exit("Run it from the project root as a module: python -m benchmarks.compare")

import argparse
import json
import math
import os
import statistics
import subprocess
import tempfile
from pathlib import Path

from benchmarks._common import SUMMARY_ENV

ROOT = Path(__file__).resolve().parent.parent


def run_once(directory: Path, benchmark: str, arguments: list[str]) -> dict[str, float]:
    """One run of a benchmark in `directory`'s code: its summary figures by measure."""
    with tempfile.NamedTemporaryFile(suffix=".jsonl") as figures:
        # The code of `directory` and not the installed one: `python -m` puts the working
        # directory first on the import path.
        completed = subprocess.run(
            [sys.executable, "-m", f"benchmarks.{benchmark}", *arguments],
            cwd=directory,
            env={**os.environ, SUMMARY_ENV: figures.name},
            capture_output=True,
            text=True,
        )
        lines = Path(figures.name).read_text(encoding="utf-8").splitlines()
    if not lines:
        sys.exit(
            f"{benchmark} printed no figure in {directory} (exit status "
            f"{completed.returncode}):\n{completed.stdout[-2000:]}{completed.stderr[-2000:]}"
        )
    rows = [json.loads(line) for line in lines]
    return {f"{row['measure']} ({row['unit']})": row["value"] for row in rows}


def first_in_round(number: int) -> tuple[str, str]:
    """Which version runs first in round `number`: each in turn."""
    return ("base", "new") if number % 2 == 0 else ("new", "base")


def table(figures: dict[str, list[dict[str, float]]]) -> list[str]:
    """Each measure's median and range for both versions, and the change of the median."""
    lines = [f"{'measure':<52} {'base: median (range)':>30} {'new: median (range)':>30} change"]
    for measure in figures["base"][0]:
        cells = []
        medians = []
        for version in ("base", "new"):
            values = [run[measure] for run in figures[version] if measure in run]
            if not values:  # a measure one version does not print
                medians.append(math.nan)
                cells.append("not printed")
                continue
            medians.append(statistics.median(values))
            cells.append(f"{medians[-1]:,.1f} ({min(values):,.1f} to {max(values):,.1f})")
        change = (medians[1] - medians[0]) / medians[0] * 100 if medians[0] else math.nan
        lines.append(f"{measure:<52} {cells[0]:>30} {cells[1]:>30} {change:+.1f}%")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        usage="python -m benchmarks.compare BASE [--rounds N] BENCHMARK [ARGS...]",
    )
    parser.add_argument("base", help="the git revision to compare this working tree with")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("benchmark", help="a script of benchmarks/: intake, queue, paygate…")
    parser.add_argument("arguments", nargs=argparse.REMAINDER, help="the benchmark's own")
    args = parser.parse_args()
    if args.rounds < 1:
        sys.exit("--rounds: at least 1")
    if not (ROOT / "benchmarks" / f"{args.benchmark}.py").is_file():
        sys.exit(f"no benchmark named {args.benchmark!r} in benchmarks/")
    with tempfile.TemporaryDirectory(prefix="supportit-compare-") as parent:
        worktree = Path(parent) / "base"
        added = subprocess.run(
            ["git", "worktree", "add", "--detach", str(worktree), args.base],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        if added.returncode != 0:
            sys.exit(f"git could not check {args.base!r} out: {added.stderr.strip()}")
        try:
            (ROOT / "build").mkdir(exist_ok=True)
            (worktree / "build").symlink_to(ROOT / "build", target_is_directory=True)
            directories = {"base": worktree, "new": ROOT}
            figures: dict[str, list[dict[str, float]]] = {"base": [], "new": []}
            for number in range(args.rounds):
                for version in first_in_round(number):
                    figures[version].append(
                        run_once(directories[version], args.benchmark, args.arguments)
                    )
                print(f"round {number + 1} of {args.rounds} done", file=sys.stderr)
        finally:
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(worktree)],
                cwd=ROOT,
                capture_output=True,
            )
    print(f"{args.benchmark} {' '.join(args.arguments)}: {args.base} (base) against this tree")
    print(f"{args.rounds} interleaved rounds, the first version alternating")
    print("\n".join(table(figures)))


if __name__ == "__main__":
    main()
