"""Backups: the database and the stored files in one `.tar.gz`, restorable on SQLite or
PostgreSQL (a SQLite installation moves to PostgreSQL this way too).

The archive holds `manifest.json` (format, schema revision, row counts), one `tables/<name>.jsonl`
per table (rows in dependency order, values tagged by column type) and `files/` (attachments
and evidence, by their SHA-256). Restore refuses a non-empty database or another schema
revision: nothing is ever overwritten, and `supportit db upgrade` comes first.
"""

from __future__ import annotations

import base64
import io
import json
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import (
    Date,
    DateTime,
    LargeBinary,
    Numeric,
    Table,
    Time,
    func,
    inspect,
    select,
    text,
)
from sqlalchemy import Enum as SAEnum

from supportit.db import UTCDateTime, continue_id_sequences, db
from supportit.services import blobs

FORMAT = "supportit-backup/1"
BATCH = 1000
# Rebuilt after a restore rather than copied: PostgreSQL's tsvector has no SQLite equivalent.
SKIPPED_COLUMNS = {("article_search", "vector")}


class BackupError(Exception):
    """A backup that cannot be restored here; the message says why and what to do."""


@dataclass
class Summary:
    tables: int
    rows: int
    files: int
    revision: str | None


def _revision() -> str | None:
    try:
        return db.session.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except Exception:  # a database made by create_all (tests) has no alembic_version
        db.session.rollback()
        return None


def _tables() -> list[Table]:
    return [t for t in db.metadata.sorted_tables]


def _columns(table: Table) -> list[Any]:
    return [c for c in table.columns if (table.name, c.name) not in SKIPPED_COLUMNS]


def _encode(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _decode(column: Any, value: Any) -> Any:
    if value is None:
        return None
    kind = column.type
    if isinstance(kind, UTCDateTime | DateTime):
        return datetime.fromisoformat(value)
    if isinstance(kind, Date):
        return date.fromisoformat(value)
    if isinstance(kind, Time):
        return time.fromisoformat(value)
    if isinstance(kind, LargeBinary):
        return base64.b64decode(value)
    if isinstance(kind, Numeric) and isinstance(value, str):
        return Decimal(value)
    if isinstance(kind, SAEnum) and kind.enum_class is not None:
        return kind.enum_class(value)
    return value


def _add(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o600
    archive.addfile(info, io.BytesIO(data))


def _rows(table: Table) -> Iterator[dict[str, Any]]:
    columns = _columns(table)
    key = list(table.primary_key.columns) or columns[:1]
    result = db.session.execute(select(*columns).order_by(*key)).yield_per(BATCH)
    for row in result:
        yield {c.name: _encode(v) for c, v in zip(columns, row, strict=True)}


def _files_dir() -> Path:
    return Path(current_app.config["ATTACHMENT_DIR"])


def create(destination: Path) -> Summary:
    """Write the backup archive; the database is read in one transaction, so it is coherent.
    Raises OSError when the archive cannot be written (no such folder, a full disk)."""
    tmp = destination.with_suffix(destination.suffix + ".partial")
    # Readable by its owner only, whatever the umask: it holds password hashes, the sealed
    # Paygate keys and every merchant's conversations.
    tmp.touch(mode=0o600, exist_ok=True)
    tmp.chmod(0o600)
    try:
        return _write(tmp, destination)
    except BaseException:
        # A full disk or an interrupted run leaves no half-written archive behind.
        tmp.unlink(missing_ok=True)
        raise


def _write(tmp: Path, destination: Path) -> Summary:
    counts: dict[str, int] = {}
    files = 0
    with tarfile.open(tmp, "w:gz") as archive:
        for table in _tables():
            lines = [json.dumps(row, ensure_ascii=False) for row in _rows(table)]
            counts[table.name] = len(lines)
            _add(archive, f"tables/{table.name}.jsonl", ("\n".join(lines) + "\n").encode())
        root = _files_dir()
        if root.is_dir():
            for path in sorted(root.rglob("*")):
                if path.is_file() and not path.name.startswith(".") and ".tmp" not in path.name:
                    archive.add(path, arcname=f"files/{path.name}", recursive=False)
                    files += 1
        manifest = {
            "format": FORMAT,
            "revision": _revision(),
            "database": db.engine.dialect.name,
            "tables": counts,
            "files": files,
        }
        _add(archive, "manifest.json", json.dumps(manifest, indent=2).encode())
    db.session.rollback()  # end the read transaction
    tmp.replace(destination)  # a half-written archive never has the final name
    return Summary(len(counts), sum(counts.values()), files, manifest["revision"])


def restore(source: Path) -> Summary:
    """Load an archive into this (empty, same-revision) database and the file store."""
    try:
        archive = tarfile.open(source, "r:gz")  # noqa: SIM115 - closed by the `with` below
    except (OSError, tarfile.TarError) as error:
        raise BackupError(f"{source} is not a SupportIT backup ({error})") from None
    with archive:
        try:
            manifest = json.loads(archive.extractfile("manifest.json").read())  # type: ignore[union-attr]
        except (KeyError, AttributeError, ValueError):
            raise BackupError(f"{source} has no readable manifest.json") from None
        if manifest.get("format") != FORMAT:
            raise BackupError(f"unknown backup format {manifest.get('format')!r}")
        here = _revision()
        if manifest.get("revision") and here and manifest["revision"] != here:
            raise BackupError(
                f"the backup is of schema revision {manifest['revision']} and this database is "
                f"at {here}: restore into a database at the backup's revision"
            )
        inspector = inspect(db.engine)
        present = set(inspector.get_table_names())
        busy = [
            t.name
            for t in _tables()
            if t.name in present and db.session.scalar(select(func.count()).select_from(t))
        ]
        if busy:
            raise BackupError(
                "the database is not empty (" + ", ".join(busy[:5]) + "): restore only into "
                "a new database, nothing is overwritten"
            )
        rows = 0
        for table in _tables():
            member = f"tables/{table.name}.jsonl"
            try:
                handle = archive.extractfile(member)
            except KeyError:
                continue  # a table newer than the backup's format: stays empty
            columns = {c.name: c for c in _columns(table)}
            batch: list[dict[str, Any]] = []
            for line in (handle.read().decode() if handle else "").splitlines():
                if not line.strip():
                    continue
                raw = json.loads(line)
                batch.append({k: _decode(columns[k], v) for k, v in raw.items() if k in columns})
                if len(batch) == BATCH:
                    db.session.execute(table.insert(), batch)
                    rows += len(batch)
                    batch = []
            if batch:
                db.session.execute(table.insert(), batch)
                rows += len(batch)
        continue_id_sequences()
        _reindex_search()
        db.session.commit()
        files = _restore_files(archive)
    return Summary(len(manifest.get("tables", {})), rows, files, manifest.get("revision"))


def _reindex_search() -> None:
    from supportit.models import Article
    from supportit.services import kb_search

    for article in db.session.scalars(select(Article)):
        kb_search.index(article)


def _restore_files(archive: tarfile.TarFile) -> int:
    count = 0
    for member in archive.getmembers():
        if not member.isfile() or not member.name.startswith("files/"):
            continue
        data = archive.extractfile(member).read()  # type: ignore[union-attr]
        name = member.name.removeprefix("files/")
        digest = blobs.write(_files_dir(), data)
        if digest != name:  # the store is content-addressed: a changed file shows here
            raise BackupError(f"file {name} in the backup is damaged (its content changed)")
        count += 1
    return count
