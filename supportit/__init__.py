"""SupportIT: support ticketing and run supervision for FLOA Pay's partner technical support."""

from __future__ import annotations

import hmac
import os
from collections.abc import Mapping
from pathlib import Path

from flask import Flask
from werkzeug.routing import IntegerConverter

from supportit import cli, config, errors, extensions, i18n, observability, security, templating
from supportit import db as database  # the module: `supportit.db` must stay importable by path
from supportit.web import widgets

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: Mapping[str, object] | None = None) -> Flask:
    """Build the application; tests pass a mapping that overrides the environment's settings."""
    given = dict(test_config or {})
    instance_path = Path(
        str(given.get("INSTANCE_PATH") or os.environ.get("SUPPORTIT_INSTANCE_PATH") or "")
        or PROJECT_ROOT / "instance"
    ).resolve()
    app = Flask(
        __name__,
        instance_path=str(instance_path),
        template_folder=str(PROJECT_ROOT / "templates"),
    )
    app.config.from_mapping(config.from_environment(instance_path, given=given))
    app.config.from_mapping(given)

    database.db.init_app(app)
    # After Flask-SQLAlchemy's own: teardowns run last registered first.
    app.teardown_appcontext(database.end_transaction_that_only_read)
    extensions.migrate.init_app(
        app,
        database.db,
        directory=str(PROJECT_ROOT / "migrations"),
        render_as_batch=True,
        include_object=models_only,
    )
    extensions.csrf.init_app(app)
    extensions.limiter.init_app(app)
    extensions.bootstrap.init_app(app)
    i18n.init_app(app)
    _init_login(app)
    templating.init_app(app)
    widgets.install()
    errors.init_app(app)
    security.init_app(app)
    observability.init_app(app)
    # Every <int:…> in a URL is a database id: beyond 32 bits it names nothing (404), instead of
    # overflowing the database driver (SQLite raises, PostgreSQL refuses the integer).
    app.url_map.converters["int"] = BoundedInt
    _register_blueprints(app)
    cli.init_app(app)
    if not app.debug and not app.testing:
        observability.configure_logging(app)
    return app


class BoundedInt(IntegerConverter):
    def __init__(self, map, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def models_only(obj, name, type_, reflected, compare_to) -> bool:  # type: ignore[no-untyped-def]
    """Alembic compares what the models declare, the search's FTS5 tables and GIN index aside."""
    from supportit.models.kb import SEARCH_INDEXES, is_fts_table

    if type_ == "index" and name in SEARCH_INDEXES:
        return False
    return not (type_ == "table" and reflected and name and is_fts_table(name))


def _init_login(app: Flask) -> None:
    from supportit.i18n import lazy_gettext as _l
    from supportit.models import User

    manager = extensions.login_manager
    manager.init_app(app)
    manager.login_view = "auth.login"
    manager.login_message = _l("Please log in to continue.")
    manager.login_message_category = "info"
    # A stolen cookie from another browser or network drops the session instead of being trusted.
    manager.session_protection = "strong"

    @manager.user_loader
    def load_user(user_id: str) -> User | None:
        number, _, fingerprint = user_id.partition(":")
        if not number.isdigit():
            return None
        user = database.db.session.get(User, int(number))
        # A session from before the last password change is not honoured.
        if user is None or not hmac.compare_digest(fingerprint, user.password_fingerprint):
            return None
        return user


def _register_blueprints(app: Flask) -> None:
    from supportit import api
    from supportit.web import (
        admin,
        alerts,
        auth,
        help,
        kpis,
        mailroom,
        onboarding,
        ops,
        paygate,
        portal,
        queue,
        replies,
        supervision,
        survey,
    )

    app.register_blueprint(admin.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(alerts.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(help.bp)
    app.register_blueprint(kpis.bp)
    app.register_blueprint(mailroom.bp)
    app.register_blueprint(onboarding.bp)
    app.register_blueprint(ops.bp)
    app.register_blueprint(paygate.bp)
    app.register_blueprint(portal.bp)
    app.register_blueprint(queue.bp)
    app.register_blueprint(replies.bp)
    app.register_blueprint(supervision.bp)
    app.register_blueprint(survey.bp)
