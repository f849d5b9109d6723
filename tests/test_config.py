import importlib.util
import os
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from supportit.config import ConfigError, from_environment


def test_defaults_use_sqlite_in_the_instance_folder(tmp_path: Path) -> None:
    settings = from_environment(tmp_path, {})
    assert settings["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'supportit.db'}"
    assert settings["BABEL_DEFAULT_LOCALE"] == "fr"
    assert settings["BABEL_DEFAULT_TIMEZONE"] == "Europe/Paris"


def test_generated_secret_key_is_kept_between_starts(tmp_path: Path) -> None:
    first = from_environment(tmp_path, {})["SECRET_KEY"]
    assert from_environment(tmp_path, {})["SECRET_KEY"] == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_earlier_secrets_are_kept_as_fallbacks(tmp_path: Path) -> None:
    env = {"SUPPORTIT_SECRET_KEY_FALLBACKS": " older-secret-one , older-secret-two ,"}
    assert from_environment(tmp_path, env)["SECRET_KEY_FALLBACKS"] == [
        "older-secret-one",
        "older-secret-two",
    ]
    assert from_environment(tmp_path, {})["SECRET_KEY_FALLBACKS"] == []


def test_plain_postgresql_url_is_bound_to_psycopg3(tmp_path: Path) -> None:
    env = {"SUPPORTIT_DATABASE_URL": "postgresql://u@db.example:5432/supportit"}
    assert from_environment(tmp_path, env)["SQLALCHEMY_DATABASE_URI"] == (
        "postgresql+psycopg://u@db.example:5432/supportit"
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SUPPORTIT_DATABASE_URL": "mysql://x"}, "SUPPORTIT_DATABASE_URL"),
        ({"SUPPORTIT_MAX_ATTACHMENT_MB": "ten"}, "SUPPORTIT_MAX_ATTACHMENT_MB"),
        ({"SUPPORTIT_MAX_ATTACHMENT_MB": "0"}, "at least 1"),
        ({"SUPPORTIT_SECURE_COOKIES": "maybe"}, "SUPPORTIT_SECURE_COOKIES"),
        ({"SUPPORTIT_ENV": "staging"}, "SUPPORTIT_ENV"),
        ({"SUPPORTIT_ENV": "production"}, "SUPPORTIT_SECRET_KEY is required"),
        ({"SUPPORTIT_SECRET_KEY": "short"}, "at least 16"),
        ({"SUPPORTIT_RATELIMIT_STORAGE_URI": "redis//127.0.0.1"}, "must start with memory://"),
        ({"SUPPORTIT_RATELIMIT_STORAGE_URI": "mongodb://db"}, "SUPPORTIT_RATELIMIT_STORAGE_URI"),
    ],
)
def test_bad_settings_stop_the_start_with_the_variable_named(
    tmp_path: Path, env: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        from_environment(tmp_path, env)


def test_rate_limit_store_in_redis_is_taken_as_given(tmp_path: Path) -> None:
    env = {"SUPPORTIT_RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0"}
    assert from_environment(tmp_path, env)["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/0"
    assert from_environment(tmp_path, {})["RATELIMIT_STORAGE_URI"] == "memory://"


def test_a_store_whose_client_is_not_installed_names_the_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As on an install without the client: the library's own error, a traceback at the first
    # import of the application, stopped every command before this check.
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "redis" else real(name, *a)
    )
    env = {"SUPPORTIT_RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0"}
    with pytest.raises(ConfigError, match=r"RATELIMIT_STORAGE_URI=redis://… needs .*'redis'"):
        from_environment(tmp_path, env)


def test_the_command_stops_on_a_bad_setting_with_one_line(tmp_path: Path) -> None:
    """The `supportit` script's function, in a process of its own as an operator runs it."""
    scripts = {e.name: e.value for e in entry_points(group="console_scripts")}
    assert scripts["supportit"] == "supportit.cli:run"
    env = {**os.environ, "SUPPORTIT_INSTANCE_PATH": str(tmp_path), "SUPPORTIT_ENV": "production"}
    env.pop("SUPPORTIT_SECRET_KEY", None)
    result = subprocess.run(
        [sys.executable, "-c", "from supportit.cli import run; run()", "db", "current"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr == (
        "supportit: SUPPORTIT_SECRET_KEY is required when SUPPORTIT_ENV=production\n"
    )


def test_an_instance_folder_that_cannot_be_made_is_named(tmp_path: Path) -> None:
    # As `supportit` run without the environment file: the default folder in a checkout the
    # service's user may not write. (Tests run as root, whom permissions do not stop: a file
    # where the folder's parent should be stands in for them.)
    (tmp_path / "checkout").write_text("")
    with pytest.raises(ConfigError, match=r"SUPPORTIT_INSTANCE_PATH: the folder .* cannot be"):
        from_environment(tmp_path / "checkout" / "instance", {})
