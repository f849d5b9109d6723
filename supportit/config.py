"""Settings, read from the environment by strict helpers.

A bad value stops the application at start with a message naming the variable, rather than
surfacing later as a confusing failure in a request.
"""

from __future__ import annotations

import importlib.util
import os
import secrets
from collections.abc import Mapping
from datetime import time
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

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


# Flask-Limiter's stores for several web workers, by URL scheme, with the client library each
# one needs. Only the client for Redis is a dependency: it is what docs/deploy.md recommends.
_RATELIMIT_CLIENTS = {
    "memory": None,
    "redis": "redis",
    "rediss": "redis",
    "redis+unix": "redis",
    "redis+sentinel": "redis",
    "redis+cluster": "redis",
    "memcached": "pymemcache",
}


def ratelimit_storage(env: Mapping[str, str]) -> str:
    """Where the API's rate-limit counts live. Checked here: a missing client library would
    otherwise stop every process, the command line included, with a library's traceback."""
    uri = env_str(env, "RATELIMIT_STORAGE_URI", "memory://") or "memory://"
    scheme, separator, _ = uri.partition("://")
    if not separator or scheme not in _RATELIMIT_CLIENTS:
        raise ConfigError(
            f"{PREFIX}RATELIMIT_STORAGE_URI must start with memory://, redis://, rediss://, "
            f"redis+unix://, redis+sentinel://, redis+cluster:// or memcached://, got {uri!r}"
        )
    client = _RATELIMIT_CLIENTS[scheme]
    if client is not None and importlib.util.find_spec(client) is None:
        raise ConfigError(
            f"{PREFIX}RATELIMIT_STORAGE_URI={scheme}://… needs the Python package {client!r}: "
            f"install it in SupportIT's virtualenv (.venv/bin/pip install {client})"
        )
    return uri


def _usable_instance_folder(instance_path: Path) -> None:
    """The instance folder (attachments, raw mail, the development database) exists and can be
    written: checked first, so that a command run as the wrong user, or without the
    environment file, says so instead of failing deep inside with a traceback."""
    try:
        instance_path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ConfigError(
            f"{PREFIX}INSTANCE_PATH: the folder {str(instance_path)!r} cannot be created "
            f"({error.strerror}); set {PREFIX}INSTANCE_PATH to a folder this user may write "
            "(in production, load the environment file: docs/deploy.md)"
        ) from None
    if not os.access(instance_path, os.W_OK | os.X_OK):
        raise ConfigError(
            f"{PREFIX}INSTANCE_PATH: this user may not write in {str(instance_path)!r}; set "
            f"{PREFIX}INSTANCE_PATH to a folder it may write (in production, load the "
            "environment file: docs/deploy.md)"
        )


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
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def engine_options(url: str) -> dict[str, object]:
    # A connection the database dropped (a PostgreSQL restart, a failover) is noticed before
    # use and replaced, instead of failing the request that drew it from the pool.
    options: dict[str, object] = {"pool_pre_ping": True}
    if url.startswith("postgresql"):
        # The connection used last is handed out next: it holds the statements psycopg has
        # prepared (a statement run five times on a connection), where taking the pool's
        # connections in turn spread each statement's runs over all of them.
        options["pool_use_lifo"] = True
    return options


def from_environment(
    instance_path: Path, env: Mapping[str, str] | None = None, *, given: Mapping[str, object] = {}
) -> dict[str, object]:
    """All settings; those already `given` (by tests) are not read, so no key file is made."""
    env = os.environ if env is None else env
    _usable_instance_folder(instance_path)
    max_attachment_mb = env_int(env, "MAX_ATTACHMENT_MB", 10, minimum=1)
    max_attachments = env_int(env, "MAX_ATTACHMENTS_PER_MESSAGE", 5, minimum=1)
    url = str(given.get("SQLALCHEMY_DATABASE_URI") or database_url(env, instance_path))
    return {
        "SUPPORTIT_ENV": env_choice(env, "ENV", "development", ("development", "production")),
        "SECRET_KEY": given.get("SECRET_KEY") or secret_key(env, instance_path),
        # Earlier secrets, newest first: sessions signed and merchant keys sealed under them
        # stay readable until `supportit paygate keys rotate` has re-sealed everything.
        "SECRET_KEY_FALLBACKS": [
            key.strip()
            for key in (env_str(env, "SECRET_KEY_FALLBACKS", "") or "").split(",")
            if key.strip()
        ],
        "SQLALCHEMY_DATABASE_URI": url,
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options(url),
        "SESSION_COOKIE_SECURE": env_bool(env, "SECURE_COOKIES", False),
        # Reverse proxies in front (nginx: 1): their X-Forwarded-* headers are then believed.
        "PROXY_HOPS": env_int(env, "PROXY_HOPS", 0),
        "LOG_FORMAT": env_choice(env, "LOG_FORMAT", "text", ("text", "json")),
        "LOG_LEVEL": env_choice(
            env, "LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
        ),
        # Prometheus' bearer token for /metrics; unset, only the machine itself may scrape.
        "METRICS_TOKEN": env_str(env, "METRICS_TOKEN"),
        # Login throttle: failures per address, and per client, within the lockout window.
        "LOGIN_MAX_FAILURES": env_int(env, "LOGIN_MAX_FAILURES", 5, minimum=1),
        "LOGIN_MAX_FAILURES_PER_CLIENT": env_int(
            env, "LOGIN_MAX_FAILURES_PER_CLIENT", 30, minimum=1
        ),
        "LOGIN_LOCKOUT_MINUTES": env_int(env, "LOGIN_LOCKOUT_MINUTES", 15, minimum=1),
        "SESSION_IDLE_MINUTES": env_int(env, "SESSION_IDLE_MINUTES", 120, minimum=1),
        # JSON API: requests per token (Flask-Limiter's syntax), and where the counts live.
        "API_RATE_LIMIT": env_str(env, "API_RATE_LIMIT", "300 per minute") or "300 per minute",
        "RATELIMIT_STORAGE_URI": ratelimit_storage(env),
        "RATELIMIT_HEADERS_ENABLED": True,
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
        # Checks run in this many threads of the scheduler process (HTTP waits, not CPU).
        "MONITOR_WORKERS": env_int(env, "MONITOR_WORKERS", 32, minimum=1),
        # A CA bundle for monitored HTTPS endpoints (an internal CA); default: the system's.
        "MONITOR_CA_BUNDLE": env_str(env, "MONITOR_CA_BUNDLE"),
        **mail_settings(env, instance_path),
        **jira_settings(env),
        # The labelled tickets the classifier starts from (empty: no classifier until
        # `supportit classify train` has stored a model from agents' decisions).
        "CLASSIFY_CORPUS": env_str(
            env, "CLASSIFY_CORPUS", str(Path(__file__).resolve().parent.parent / "tests" / "corpus")
        )
        or "",
        **calendar_settings(env),
        **alert_settings(env),
    }


def jira_settings(env: Mapping[str, str]) -> dict[str, object]:
    """Jira (optional): without SUPPORTIT_JIRA_URL, issues wait in the outbox until it is set."""
    import json

    fields_text = env_str(env, "JIRA_FIELDS", "{}") or "{}"
    try:
        fields = json.loads(fields_text)
    except ValueError:
        raise ConfigError(f"{PREFIX}JIRA_FIELDS must be a JSON object of Jira fields") from None
    if not isinstance(fields, dict):
        raise ConfigError(f"{PREFIX}JIRA_FIELDS must be a JSON object of Jira fields")
    return {
        "JIRA_URL": (env_str(env, "JIRA_URL", "") or "").rstrip("/"),
        "JIRA_USER": env_str(env, "JIRA_USER", "") or "",
        "JIRA_TOKEN": env_str(env, "JIRA_TOKEN", "") or "",
        "JIRA_PROJECT": env_str(env, "JIRA_PROJECT", "ONB") or "ONB",
        "JIRA_ISSUE_TYPE": env_str(env, "JIRA_ISSUE_TYPE", "Task") or "Task",
        "JIRA_FIELDS": fields,
        "JIRA_TIMEOUT": env_int(env, "JIRA_TIMEOUT", 10, minimum=1),
        "JIRA_WEBHOOK_SECRET": env_str(env, "JIRA_WEBHOOK_SECRET", "") or "",
    }


_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def env_zone(env: Mapping[str, str], name: str, default: str) -> str:
    value = env_str(env, name, default) or default
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"{PREFIX}{name} must be an IANA time zone such as Europe/Paris, got {value!r}"
        ) from None
    return value


def env_time(env: Mapping[str, str], name: str, default: str) -> time:
    value = env_str(env, name, default) or default
    try:
        return time.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"{PREFIX}{name} must be a time such as 09:00, got {value!r}") from None


def calendar_settings(env: Mapping[str, str]) -> dict[str, object]:
    """The team's business calendar (defaults: 09:00-18:00, Monday-Friday, Paris, France)."""
    opens = env_time(env, "CALENDAR_OPENS", "09:00")
    closes = env_time(env, "CALENDAR_CLOSES", "18:00")
    if opens >= closes:
        raise ConfigError(f"{PREFIX}CALENDAR_OPENS must be before {PREFIX}CALENDAR_CLOSES")
    days_text = env_str(env, "CALENDAR_WORKING_DAYS", "mon,tue,wed,thu,fri") or ""
    days = [d.strip().lower()[:3] for d in days_text.replace(" ", ",").split(",") if d.strip()]
    unknown = [d for d in days if d not in _WEEKDAYS]
    if unknown or not days:
        raise ConfigError(
            f"{PREFIX}CALENDAR_WORKING_DAYS must list days among {','.join(_WEEKDAYS)}, "
            f"got {days_text!r}"
        )
    country = env_str(env, "CALENDAR_HOLIDAYS", "FR")
    if country and country.lower() != "none":
        if country.upper() not in holidays.list_supported_countries():
            raise ConfigError(
                f"{PREFIX}CALENDAR_HOLIDAYS must be a country code such as FR (or none), "
                f"got {country!r}"
            )
        country = country.upper()
    else:
        country = None
    return {
        "CALENDAR_TIMEZONE": env_zone(env, "CALENDAR_TIMEZONE", "Europe/Paris"),
        "CALENDAR_OPENS": opens,
        "CALENDAR_CLOSES": closes,
        "CALENDAR_WORKING_DAYS": frozenset(_WEEKDAYS.index(d) for d in days),
        "CALENDAR_HOLIDAYS": country,
        # Whit Monday is a public holiday many French companies work (journée de solidarité).
        "CALENDAR_WHIT_MONDAY_WORKED": env_bool(env, "CALENDAR_WHIT_MONDAY_WORKED", False),
    }


def env_url(env: Mapping[str, str], name: str) -> str | None:
    value = env_str(env, name)
    if value is not None and not value.startswith(("http://", "https://")):
        raise ConfigError(f"{PREFIX}{name} must be an http:// or https:// URL, got {value!r}")
    return value


def alert_settings(env: Mapping[str, str]) -> dict[str, object]:
    """Paging: escalation defaults, the SMS, voice and chat providers, signed links."""
    return {
        # The first escalation policy is made from these; admins edit it afterwards.
        "ESCALATION_DELAY_MINUTES": env_int(env, "ESCALATION_DELAY_MINUTES", 10, minimum=1),
        "ESCALATION_REPEATS": env_int(env, "ESCALATION_REPEATS", 2),
        "ESCALATION_TEAM_LEAD": env_str(env, "ESCALATION_TEAM_LEAD"),
        # HTTP providers: the payload is JSON ({"to", "text"}), the token a Bearer header.
        "SMS_PROVIDER_URL": env_url(env, "SMS_PROVIDER_URL"),
        "SMS_PROVIDER_TOKEN": env_str(env, "SMS_PROVIDER_TOKEN"),
        "VOICE_PROVIDER_URL": env_url(env, "VOICE_PROVIDER_URL"),
        "VOICE_PROVIDER_TOKEN": env_str(env, "VOICE_PROVIDER_TOKEN"),
        # An incoming-webhook URL (Slack, Teams, Mattermost, Google Chat all take {"text"}).
        "CHAT_WEBHOOK_URL": env_url(env, "CHAT_WEBHOOK_URL"),
        # Signs the generic webhooks engineers register as contact methods.
        "WEBHOOK_SIGNING_SECRET": env_str(env, "WEBHOOK_SIGNING_SECRET"),
        "NOTIFY_HTTP_TIMEOUT": env_int(env, "NOTIFY_HTTP_TIMEOUT", 10, minimum=1),
        # Notifications delivered at once by each outbox worker (threads).
        "NOTIFY_WORKERS": env_int(env, "NOTIFY_WORKERS", 4, minimum=1),
        # How long the acknowledge / resolve links in a page stay valid.
        "ALERT_LINK_HOURS": env_int(env, "ALERT_LINK_HOURS", 24, minimum=1),
        # Urgent tickets a merchant may raise outside business hours per rolling 24 hours.
        "URGENT_TICKETS_PER_DAY": env_int(env, "URGENT_TICKETS_PER_DAY", 3, minimum=1),
    }


DEFAULT_MAIL_EXTENSIONS = (
    "pdf png jpg jpeg gif webp heic bmp tif tiff csv xlsx xls ods json xml txt log har zip gz "
    "7z eml msg doc docx odt ppt pptx"
)


def mail_settings(env: Mapping[str, str], instance_path: Path) -> dict[str, object]:
    support = env_str(env, "SUPPORT_ADDRESS", "support-it-floapay@floa.com") or ""
    if "@" not in support:
        raise ConfigError(f"{PREFIX}SUPPORT_ADDRESS must be an email address, got {support!r}")
    category = env_choice(
        env,
        "MAIL_DEFAULT_CATEGORY",
        "integration",
        ("onboarding", "integration", "run", "order_management"),
    )
    extensions = env_str(env, "MAIL_ALLOWED_EXTENSIONS", DEFAULT_MAIL_EXTENSIONS) or ""
    allowlist = env_str(env, "MAIL_ALLOWLIST_DOMAINS", "") or ""
    return {
        "SUPPORT_ADDRESS": support.lower(),
        "SUPPORT_NAME": env_str(env, "SUPPORT_NAME", "FLOA Pay Support IT"),
        "BASE_URL": (env_str(env, "BASE_URL", "http://127.0.0.1:5000") or "").rstrip("/"),
        "MAIL_DIR": env_str(env, "MAIL_DIR", str(instance_path / "mail")),
        "MAIL_MAX_BYTES": env_int(env, "MAIL_MAX_MB", 25, minimum=1) * 1024 * 1024,
        "MAIL_MAX_ATTACHMENTS": env_int(env, "MAIL_MAX_ATTACHMENTS", 30, minimum=1),
        "MAIL_ALLOWED_EXTENSIONS": frozenset(extensions.lower().replace(",", " ").split()),
        "MAIL_RATE_LIMIT_PER_HOUR": env_int(env, "MAIL_RATE_LIMIT_PER_HOUR", 30, minimum=1),
        "MAIL_REOPEN_DAYS": env_int(env, "MAIL_REOPEN_DAYS", 30, minimum=0),
        "MAIL_DEFAULT_CATEGORY": category,
        "MAIL_ALLOWLIST_DOMAINS": frozenset(allowlist.lower().replace(",", " ").split()),
        "SMTP_HOST": env_str(env, "SMTP_HOST", "127.0.0.1"),
        "SMTP_PORT": env_int(env, "SMTP_PORT", 1025, minimum=1),
        "SMTP_SECURITY": env_choice(env, "SMTP_SECURITY", "none", ("none", "starttls", "ssl")),
        "SMTP_USERNAME": env_str(env, "SMTP_USERNAME"),
        "SMTP_PASSWORD": env_str(env, "SMTP_PASSWORD"),
        "SMTP_TIMEOUT": env_int(env, "SMTP_TIMEOUT", 30, minimum=1),
        "IMAP_HOST": env_str(env, "IMAP_HOST"),
        "IMAP_PORT": env_int(env, "IMAP_PORT", 993, minimum=1),
        "IMAP_SECURITY": env_choice(env, "IMAP_SECURITY", "ssl", ("ssl", "starttls", "none")),
        "IMAP_USERNAME": env_str(env, "IMAP_USERNAME"),
        "IMAP_PASSWORD": env_str(env, "IMAP_PASSWORD"),
        "IMAP_FOLDER": env_str(env, "IMAP_FOLDER", "INBOX"),
        "IMAP_PROCESSED_FOLDER": env_str(env, "IMAP_PROCESSED_FOLDER", "SupportIT-Processed"),
        "IMAP_CAFILE": env_str(env, "IMAP_CAFILE"),
        "IMAP_INTERVAL": env_int(env, "IMAP_INTERVAL", 60, minimum=5),
    }
