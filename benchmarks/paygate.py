"""Paygate inspector throughput: decrypt and inspect requests like seed 001's, on one core.

    python -m benchmarks.paygate [--requests 10000]

Target (issue 5): at least 2,000 requests per second on one core. Each request is seed 001's
example (with its two broken objects fixed, so all five JSON objects go through the schema
validator), with its own TransID and Amount, signed and Blowfish-encrypted as a shop sends it;
the benchmark decrypts it, checks every parameter, validates the objects and checks the MAC.
"""

from __future__ import annotations

import sys

if not __package__:  # run as a file, benchmarks/ would come first on the import path, where
    # queue.py hides the standard library's queue module from every library that imports it
    sys.exit("Run it from the project root as a module: python -m benchmarks.paygate")

import argparse
import base64
import os
import re
import resource
import time
from pathlib import Path

from benchmarks._common import summary
from supportit.paygate import build
from supportit.paygate.inspect import inspect
from supportit.paygate.params import Params, parse_pairs

SEED = Path(__file__).resolve().parent.parent / "tests/fixtures/paygate/seed001_request.txt"
KEY, HMAC_KEY, MID = "Bf7#kq2Lz9", "hmac-secret-for-benchmarks", "BNP_DEMO_AXEPTA"


def _fixed_seed() -> dict[str, str]:
    text = SEED.read_text()

    def fix(name: str, broken: str, right: str) -> None:
        nonlocal text
        value = base64.b64decode(re.search(f"{name}=([^&]*)", text).group(1)).decode()  # type: ignore[union-attr]
        fixed = base64.b64encode(value.replace(broken, right).encode()).decode()
        text = re.sub(f"{name}=[^&]*", f"{name}={fixed}", text)

    fix("TravelDetails", ",travellerPassportList:", ',"travellerPassportList":')
    fix("ProductDetails", "categorie", "category")
    return Params(parse_pairs(text)[0]).as_dict()


def generate(count: int) -> list[str]:
    base = _fixed_seed()
    pastes = []
    for number in range(count):
        params = {**base, "TransID": f"BENCH-{number:06d}", "Amount": str(1000 + number)}
        signed = build.sign_request(params, HMAC_KEY)
        pastes.append(build.encode(build.envelope(signed, KEY, MID)))
    return pastes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, as the target says
    pastes = generate(args.requests)
    inspect(pastes[0], blowfish_key=KEY, hmac_key=HMAC_KEY)  # schemas compiled once, outside
    errors = 0
    started = time.perf_counter()
    for paste in pastes:
        report = inspect(paste, blowfish_key=KEY, hmac_key=HMAC_KEY)
        errors += report.has_errors
    elapsed = time.perf_counter() - started
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"requests inspected : {len(pastes)} ({len(pastes[0])} bytes each, 5 JSON objects)")
    print(f"with errors        : {errors} (expected 0)")
    print(f"elapsed            : {elapsed:.2f} s")
    print(
        f"throughput         : {len(pastes) / elapsed:,.0f} requests/s on one core (target 2,000)"
    )
    print(f"peak memory        : {rss:.0f} MB")
    rate = len(pastes) / elapsed
    summary("paygate", "requests inspected, one core", rate, "requests/s", ">= 2000", rate >= 2000)


if __name__ == "__main__":
    main()
