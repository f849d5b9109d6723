"""The log check `make test` runs after the suite finds a secret, and refuses an empty log."""

from __future__ import annotations

from pathlib import Path

from tests import check_logs
from tests.jira_server import TOKEN


def test_a_secret_in_the_log_fails_the_check(tmp_path: Path, capsys) -> None:
    clean = tmp_path / "clean.log"
    clean.write_text("INFO jira: ONB-1 created\n")
    assert check_logs.main([str(clean)]) == 0
    leaked = tmp_path / "leaked.log"
    leaked.write_text(f"INFO fine\nDEBUG headers Authorization: Basic {TOKEN}\n")
    assert check_logs.main([str(leaked)]) == 1
    assert "leaked.log:2: the Jira token appears in the log" in capsys.readouterr().out
    (tmp_path / "empty.log").write_text("")
    assert check_logs.main([str(tmp_path / "empty.log")]) == 1
