"""The Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text

from supportit import models_only
from supportit.db import db
from tests.conftest import make_app

PG_URL = os.environ.get("SUPPORTIT_TEST_DATABASE_URL")


@pytest.fixture
def empty_database_url(tmp_path: Path):
    if not PG_URL:
        yield f"sqlite:///{tmp_path / 'migrated.db'}"
        return
    # A schema of its own, so the migration runs on an empty database beside the test tables.
    engine = create_engine(PG_URL)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS migration_check CASCADE"))
        connection.execute(text("CREATE SCHEMA migration_check"))
    sep = "&" if "?" in PG_URL else "?"
    yield f"{PG_URL}{sep}options=-csearch_path%3Dmigration_check"
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS migration_check CASCADE"))
    engine.dispose()


# SQLite cannot reflect expression indexes; the PostgreSQL run compares that one.
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based")
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
def test_migrations_match_the_models(tmp_path: Path, empty_database_url: str) -> None:
    app = make_app(tmp_path, SQLALCHEMY_DATABASE_URI=empty_database_url)
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(
                connection,
                opts={
                    "compare_type": True,
                    "render_as_batch": True,
                    "include_object": models_only,
                },
            )
            differences = compare_metadata(context, db.metadata)
        assert differences == []
        downgrade(revision="base")
        with db.engine.connect() as connection:
            assert set(inspect(connection).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()
