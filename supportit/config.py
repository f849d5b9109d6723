"""Settings, read from the environment by strict helpers.

A bad value stops the application at start with a message naming the variable, rather than
surfacing later as a confusing failure in a request.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

PREFIX = "SUPPORTIT_"


class ConfigError(RuntimeError):
    """A setting is missing or malformed."""


def _raw(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(PREFIX + name)
    if value is None or value.strip() == "":
        return None
    return value.strip()


def env_str(env: Mapping[str, str], name: str, default: str | None = None) -> str | None:
    value = _raw(env, name)
    return default if value is None else value


def env_int(env: Mapping[str, str], name: str, default: int, *, minimum: int = 0) -> int:
    value = _raw(env, name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(f"{PREFIX}{name} must be a whole number, got {value!r}") from None
    if number < minimum:
        raise ConfigError(f"{PREFIX}{name} must be at least {minimum}, got {number}")
    return number


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def env_bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    value = _raw(env, name)
    if value is None:
        return default
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ConfigError(f"{PREFIX}{name} must be one of true/false/1/0/yes/no, got {value!r}")


def env_choice(env: Mapping[str, str], name: str, default: str, choices: tuple[str, ...]) -> str:
    value = _raw(env, name)
    if value is None:
        return default
    if value not in choices:
        raise ConfigError(f"{PREFIX}{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


def database_url(env: Mapping[str, str], instance_path: Path) -> str:
    url = env_str(env, "DATABASE_URL")
    if url is None:
        return f"sqlite:///{instance_path / 'supportit.db'}"
    if url.startswith("postgres://") or url.startswith("postgresql://"):
        # psycopg 3 is the driver we ship; an operator's plain URL must not pick psycopg2.
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    if not (url.startswith("sqlite") or url.startswith("postgresql+psycopg://")):
        raise ConfigError(f"{PREFIX}DATABASE_URL must be an sqlite:// or postgresql:// URL")
    return url


def secret_key(env: Mapping[str, str], instance_path: Path) -> str:
    """The session signing key: from the environment, else a key kept in the instance folder.

    Keeping the generated key on disk means a developer's sessions survive a restart; in
    production SUPPORTIT_SECRET_KEY is set and `production` mode refuses to start without it.
    """
    key = env_str(env, "SECRET_KEY")
    if key is not None:
        if len(key) < 16:
            raise ConfigError(f"{PREFIX}SECRET_KEY must be at least 16 characters long")
        return key
    if env_choice(env, "ENV", "development", ("development", "production")) == "production":
        raise ConfigError(f"{PREFIX}SECRET_KEY is required when {PREFIX}ENV=production")
    path = instance_path / "secret_key"
    if not path.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def from_environment(
    instance_path: Path, env: Mapping[str, str] | None = None, *, given: Mapping[str, object] = {}
) -> dict[str, object]:
    """All settings; those already `given` (by tests) are not read, so no key file is made."""
    env = os.environ if env is None else env
    max_attachment_mb = env_int(env, "MAX_ATTACHMENT_MB", 10, minimum=1)
    max_attachments = env_int(env, "MAX_ATTACHMENTS_PER_MESSAGE", 5, minimum=1)
    return {
        "SUPPORTIT_ENV": env_choice(env, "ENV", "development", ("development", "production")),
        "SECRET_KEY": given.get("SECRET_KEY") or secret_key(env, instance_path),
        "SQLALCHEMY_DATABASE_URI": given.get("SQLALCHEMY_DATABASE_URI")
        or database_url(env, instance_path),
        "SESSION_COOKIE_SECURE": env_bool(env, "SECURE_COOKIES", False),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "BABEL_DEFAULT_LOCALE": "fr",
        "BABEL_DEFAULT_TIMEZONE": env_str(env, "TIMEZONE", "Europe/Paris"),
        "BOOTSTRAP_SERVE_LOCAL": True,
        "ATTACHMENT_MAX_BYTES": max_attachment_mb * 1024 * 1024,
        "ATTACHMENTS_PER_MESSAGE": max_attachments,
        # The request limit leaves room for all attachments of one message plus the form itself.
        "MAX_CONTENT_LENGTH": max_attachment_mb * max_attachments * 1024 * 1024 + 1024 * 1024,
        "ATTACHMENT_DIR": env_str(env, "ATTACHMENT_DIR", str(instance_path / "attachments")),
        "TICKETS_PER_PAGE": env_int(env, "TICKETS_PER_PAGE", 25, minimum=5),
    }
