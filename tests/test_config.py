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
    ],
)
def test_bad_settings_stop_the_start_with_the_variable_named(
    tmp_path: Path, env: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        from_environment(tmp_path, env)
