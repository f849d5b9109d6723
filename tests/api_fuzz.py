"""Schemathesis against the JSON API: generated requests for every operation of the OpenAPI
document, as a merchant and as an agent; no answer may be a server error (5xx) or disagree
with the document's schemas. Bounded in examples so CI stays short.

    python -m tests.api_fuzz [--examples 25]

It serves the app with the demo data on a loopback port (nothing leaves the machine).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from supportit import create_app
from supportit.db import db
from supportit.models import User
from supportit.services import api_tokens, demo
from tests.e2e.live import serve


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=25)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {
                "INSTANCE_PATH": tmp,
                "SECRET_KEY": "api-fuzz-secret-key-only",
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(tmp) / 'fuzz.db'}",
                "ATTACHMENT_DIR": str(Path(tmp) / "attachments"),
                "API_RATE_LIMIT": "100000 per minute",
                # Not a line per generated request in CI's log.
                "LOG_LEVEL": "WARNING",
            }
        )
        with app.app_context():
            db.create_all()
            demo.load()
            tokens = {}
            for email in ("alice@maliterie.example", "agent1@floa.example"):
                user = db.session.query(User).filter_by(email=email).one()
                tokens[email] = api_tokens.create(
                    user, "fuzz", list(api_tokens.allowed_scopes(user))
                )[1]
        failed = 0
        with serve(app) as base:
            for email, token in tokens.items():
                print(f"== Schemathesis as {email}", flush=True)
                result = subprocess.run(
                    [
                        str(Path(sys.executable).with_name("schemathesis")),
                        "run",
                        f"{base}/api/v1/openapi.json",
                        "--url",
                        f"{base}/api/v1",
                        "--header",
                        f"Authorization: Bearer {token}",
                        "--checks",
                        "not_a_server_error,response_schema_conformance",
                        "--max-examples",
                        str(args.examples),
                        "--generation-deterministic",
                        "--phases",
                        "examples,coverage,fuzzing",
                        "--request-timeout",
                        "10",
                    ],
                    check=False,
                )
                failed |= result.returncode
        return failed


if __name__ == "__main__":
    raise SystemExit(main())
