"""The declarative base, the Flask-SQLAlchemy handle and a UTC-aware datetime type."""

from __future__ import annotations

import logging
import sqlite3
import time
from datetime import UTC, datetime

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, MetaData, event, text, types
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase

log = logging.getLogger(__name__)

# Named constraints make Alembic migrations reproducible on SQLite and PostgreSQL alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(types.TypeDecorator[datetime]):
    """Stores aware datetimes as UTC and always gives them back aware.

    SQLite has no time zone support and returns naive values; without this, comparing a loaded
    value with `utcnow()` would raise in SQLite and work in PostgreSQL.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: object, connection_record: object) -> None:
    """SQLite as a real database: enforce foreign keys; WAL so readers never block the writer
    and a commit costs one sync of the log instead of two of the database file."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_LOCK_WAIT_MS}")
    cursor.close()


# How long a writer waits for SQLite's single write lock before it gives up with "database is
# locked".
SQLITE_LOCK_WAIT_MS = 5000
# Between two tries for that lock. SQLite's own busy handler sleeps 1, 2, 5, 10 ms and more
# between tries, while a writer here holds the lock about 3 ms: two intake processes spent most
# of their waits asleep after the lock was free again.
_SQLITE_LOCK_RETRY_S = 0.0002
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")  # the statements the driver begins before


@event.listens_for(Engine, "before_cursor_execute")
def _sqlite_write_lock(
    connection: object,
    cursor: sqlite3.Cursor,
    statement: str,
    parameters: object,
    context: object,
    executemany: bool,
) -> None:
    """Take SQLite's write lock for a transaction's first write, retrying every 0.2 ms.

    Reads stay outside transactions as the driver runs them, so they never hold a snapshot
    across the Python work between two statements; only the write lock is taken differently.
    """
    dbapi_connection = cursor.connection
    if (
        not isinstance(dbapi_connection, sqlite3.Connection)
        or dbapi_connection.in_transaction
        or dbapi_connection.isolation_level is None  # autocommit: the driver never begins
        or not statement.lstrip()[:7].upper().startswith(_WRITES)
    ):
        return
    dbapi_connection.execute("PRAGMA busy_timeout=0")
    try:
        deadline = time.monotonic() + SQLITE_LOCK_WAIT_MS / 1000
        while True:
            try:
                dbapi_connection.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as error:
                busy = error.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY
                if not busy or time.monotonic() >= deadline:
                    raise  # as the driver's own BEGIN would have: "database is locked"
            time.sleep(_SQLITE_LOCK_RETRY_S)
    finally:
        dbapi_connection.execute(f"PRAGMA busy_timeout={SQLITE_LOCK_WAIT_MS}")


# Whether the connection's transaction ran anything but a SELECT: set by the two hooks below.
_WROTE = "supportit_wrote"


@event.listens_for(Engine, "begin")
def _transaction_begins(connection: Connection) -> None:
    connection.info[_WROTE] = False


@event.listens_for(Engine, "before_cursor_execute")
def _note_writes(
    connection: Connection,
    cursor: object,
    statement: str,
    parameters: object,
    context: object,
    executemany: bool,
) -> None:
    compiled = getattr(context, "compiled", None)
    built = getattr(compiled, "statement", None)
    if getattr(built, "is_select", False) and not any(
        cte.element.is_dml for cte in getattr(compiled, "ctes", None) or ()
    ):
        return  # a select built by SQLAlchemy, its CTEs included (the searches'): reads only
    # Anything else but plain SQL starting with SELECT counts: erring that way only costs a
    # ROLLBACK where a COMMIT would have done.
    if statement.lstrip()[:6].upper() != "SELECT":
        connection.info[_WROTE] = True


def end_transaction_that_only_read(error: BaseException | None = None) -> None:
    """On PostgreSQL, end an application context's transaction with COMMIT when it only read.

    psycopg forgets the statements it prepared on a connection at every ROLLBACK (it cannot
    tell whether the transaction changed the tables they were planned for), and a context's
    transaction ends with one when the session is removed. Every request ended that way, so no
    statement was ever prepared: PostgreSQL planned each statement of each request again (the
    ticket page's join of the ticket with its merchant, people and clocks: 0.9 ms to plan,
    0.3 to run). A transaction that ran only SELECTs and holds no pending change ends the same
    either way. Registered after Flask-SQLAlchemy, so that it runs before the session is
    removed; anything else (an error, a write, SQLite) is left to that rollback.
    """
    if error is not None:
        return
    session = db.session()
    transaction = session.get_transaction()
    if (
        transaction is None
        or not transaction.is_active
        or session.new
        or session.dirty
        or session.deleted
        or not on_postgresql()
    ):
        return
    if session.connection().info.get(_WROTE, True):
        return
    try:
        session.commit()
    except SQLAlchemyError:
        # The session's removal rolls back; a failed COMMIT of reads loses nothing.
        log.warning("could not end a read-only transaction with COMMIT", exc_info=True)


def utcnow() -> datetime:
    return datetime.now(UTC)


def on_postgresql() -> bool:
    """Whether the session's database is PostgreSQL (production's) rather than SQLite, for
    the few statements written differently for each."""
    return db.session.get_bind().dialect.name == "postgresql"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)


def commit_without_expiring() -> None:
    """Commit, keeping the session's objects as they are instead of reloading them on next use.

    Only for objects the caller has just written in full (no server-side defaults): a hot path
    such as mail intake then saves a SELECT per object after each commit.
    """
    session = db.session()
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True


def continue_id_sequences() -> None:
    """PostgreSQL: each table's id sequence continues after the highest id, once rows were
    written with ids of their own (a restore, generated volume data). SQLite needs nothing."""
    if not on_postgresql():
        return
    for table in db.metadata.sorted_tables:
        if "id" in table.columns and table.columns["id"].autoincrement is not False:
            db.session.execute(
                text(
                    "SELECT setval(pg_get_serial_sequence(:t, 'id'), "
                    f'COALESCE((SELECT MAX(id) FROM "{table.name}"), 0) + 1, false)'
                ),
                {"t": table.name},
            )
