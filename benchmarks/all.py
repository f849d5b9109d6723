"""Every benchmark of the project at small default sizes, then one summary table (`make bench`).

    python -m benchmarks.all [--tickets 20000] [--only queue,kb]

Each script runs as its own process, as it would alone, and prints its full report; they all
write their key figures to one file (SUPPORTIT_BENCH_SUMMARY), read back here into a table with
the machine the figures come from. The sizes are small so the whole run takes a few minutes;
`--tickets 100000` gives the queue figures docs/performance.md records (the database is built
once and kept under build/bench/). Exit status 1 when a figure misses its target.
"""

from __future__ import annotations

import sys

if not __package__:  # run as a file, benchmarks/ would come first on the import path, where
    # queue.py hides the standard library's queue module from every library that imports it
    sys.exit("Run it from the project root as a module: python -m benchmarks.all")

import argparse
import json
import os
import platform
import subprocess
import tempfile
import time
from pathlib import Path

from benchmarks._common import SUMMARY_ENV, machine_speed_ms

HERE = Path(__file__).resolve().parent


def _runs(tickets: int) -> dict[str, list[str]]:
    return {
        "queue": ["--tickets", str(tickets), "--repeat", "20"],
        "kb": ["--articles", "2000", "--queries", "150"],
        "intake": ["--mails", "600"],
        "alerts": ["--alerts", "300"],
        "paygate": ["--requests", "3000"],
        "monitoring": ["--monitors", "300", "--minutes", "1"],
        "load": ["--duration", "30", "--merchants", "50", "--agents", "7"],
    }


def _machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=20_000)
    parser.add_argument("--only", default="", help="comma-separated benchmark names")
    args = parser.parse_args()
    runs = _runs(args.tickets)
    chosen = [name for name in args.only.split(",") if name] or list(runs)
    unknown = set(chosen) - set(runs)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    failed_to_run = []
    speed_before = machine_speed_ms()
    with tempfile.TemporaryDirectory() as tmp:
        figures_file = Path(tmp) / "summary.jsonl"
        environment = dict(os.environ, **{SUMMARY_ENV: str(figures_file)})
        for name in chosen:
            command = [sys.executable, "-m", f"benchmarks.{name}", *runs[name]]
            print(f"\n=== {name}: python -m benchmarks.{name} {' '.join(runs[name])}", flush=True)
            started = time.monotonic()
            code = subprocess.call(command, cwd=HERE.parent, env=environment)
            print(f"=== {name}: {time.monotonic() - started:.0f} s, exit status {code}", flush=True)
            if code not in (0, 1):  # 1 is a missed target, reported in the table
                failed_to_run.append(name)
        rows = (
            [json.loads(line) for line in figures_file.read_text().splitlines()]
            if (figures_file.exists())
            else []
        )
    speed_after = machine_speed_ms()
    print(f"\nSummary ({_machine()})")
    print(
        "Machine speed, reference work (best/median ms, lower is faster): "
        f"{speed_before[0]:.1f}/{speed_before[1]:.1f} before the runs, "
        f"{speed_after[0]:.1f}/{speed_after[1]:.1f} after; docs/performance.md gives it for the "
        "recorded figures"
    )
    print(f"{'benchmark':11} {'measure':52} {'value':>12} {'unit':12} {'target':>22}  verdict")
    missed = 0
    for row in rows:
        verdict = {True: "ok", False: "MISSED", None: "-"}[row["ok"]]
        missed += row["ok"] is False
        print(
            f"{row['benchmark']:11} {row['measure'][:52]:52} {row['value']:12,.1f} "
            f"{row['unit']:12} {row['target']:>22}  {verdict}"
        )
    for name in failed_to_run:
        print(f"{name:11} {'did not finish: see its output above':52}")
    print(f"\n{len(rows)} figures, {missed} target(s) missed, {len(failed_to_run)} run(s) failed")
    return 1 if missed or failed_to_run else 0


if __name__ == "__main__":
    raise SystemExit(main())
