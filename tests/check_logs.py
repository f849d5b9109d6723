"""Secrets never reach the logs: grep the log of a whole test run for every secret it used.

    python -m tests.check_logs build/test-run.log [more.log ...]

`make test` and `make e2e` write their run's log (every logger, DEBUG and up) and call this
afterwards; it exits 1 naming each secret found, and also when a log is missing or empty (the
check would then prove nothing).
"""

from __future__ import annotations

import sys
from pathlib import Path

from tests.factories import PASSWORD
from tests.jira_server import TOKEN as JIRA_TOKEN

# Every secret the suite hands to SupportIT: keys, tokens, passwords, the session secret.
SECRETS = {
    "user password": PASSWORD,
    "demo passwords": "demo-agent",
    "Jira token": JIRA_TOKEN,
    "Jira webhook secret": "shared-secret-for-tests",
    "Paygate Blowfish key": "Bf7#kq2Lz9",
    "Paygate HMAC key": "hmac-secret-for-tests",
    "SMS provider token": "sms-token",
    "session secret (tests)": "test-secret-key-not-for-production",
    "session secret (browser tests)": "e2e-secret-key-not-for-production",
}


def main(paths: list[str]) -> int:
    failed = 0
    for name in paths:
        path = Path(name)
        if not path.is_file() or path.stat().st_size == 0:
            print(f"{name}: no log to check")
            failed = 1
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for what, secret in SECRETS.items():
            if secret in text:
                line = next(n for n, row in enumerate(text.splitlines(), 1) if secret in row)
                print(f"{name}:{line}: the {what} appears in the log")
                failed = 1
        if not failed:
            print(f"{name}: {len(text.splitlines())} lines, no secret")
    return failed


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
