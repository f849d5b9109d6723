"""deploy/gunicorn.conf.py, the production web settings, read as gunicorn reads them."""

from __future__ import annotations

import gc
import runpy
from pathlib import Path

CONF = Path(__file__).resolve().parent.parent / "deploy" / "gunicorn.conf.py"


def test_settings_come_from_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("BIND", "127.0.0.1:9001")
    monkeypatch.setenv("WEB_WORKERS", "5")
    settings = runpy.run_path(str(CONF))
    assert settings["bind"] == "127.0.0.1:9001" and settings["workers"] == 5
    assert settings["keepalive"] > 2  # longer than gunicorn's default, which closed idle clients


def test_a_started_worker_freezes_what_it_built_out_of_the_collectors_walks() -> None:
    settings = runpy.run_path(str(CONF))
    before = gc.get_freeze_count()
    try:
        settings["post_worker_init"](worker=None)
        assert gc.get_freeze_count() > before
    finally:
        gc.unfreeze()  # the rest of the suite runs with an ordinary collector
