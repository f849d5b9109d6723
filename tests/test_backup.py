"""`supportit backup` and `supportit restore`: a round trip keeps every row and every file,
into a new database (SQLite, or PostgreSQL in the PostgreSQL run), and refuses to overwrite."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from supportit.db import db
from supportit.models import Article, Attachment, ClassifierModel, Message, Ticket, User
from supportit.services import backup, classification, kb, onboarding
from supportit.services.attachments import Upload, storage_path
from tests import factories
from tests.conftest import login, make_app, postgres_database

CORPUS = Path(__file__).parent / "corpus"


def _counts() -> dict[str, int]:
    return {
        t.name: db.session.scalar(select(func.count()).select_from(t))
        for t in db.metadata.sorted_tables
    }


def test_a_backup_restores_every_row_and_file_into_a_new_database(app, world, tmp_path) -> None:
    from supportit import PROJECT_ROOT

    kb.sync(Path(PROJECT_ROOT) / "kb")
    ticket = factories.ticket(
        world.alice, "Sauvegarde", uploads=[Upload("journal.log", b"Status=FAILED Code=21000005")]
    )
    started = onboarding.start(world.soleil, world.agent, products=["1XD"], signed_on=date.today())
    onboarding.add_evidence(
        started.steps[1], world.agent, "Kbis", None, Upload("kbis.pdf", b"%PDF-1.4 kbis")
    )
    classification.train(CORPUS)  # a LargeBinary column
    before = _counts()
    archive = tmp_path / "backup.tar.gz"
    summary = backup.create(archive)
    assert summary.rows == sum(before.values()) and summary.files == 2
    assert archive.stat().st_mode & 0o777 == 0o600  # secrets inside: its owner's alone

    # Plain values only past this point: touching the first app's objects inside the second
    # app's context would load them through the second app's database.
    ids = {"alice": world.alice.id, "agent": world.agent.id, "reference": ticket.reference}
    db.session.commit()
    with _new_database(app, tmp_path) as url:
        _restore_and_check(archive, summary, before, ids, tmp_path, url)


@contextmanager
def _new_database(app, tmp_path: Path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A database of its own to restore into: a file on SQLite, a new database on PostgreSQL."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if not url.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    base, _, name = url.rpartition("/")
    with postgres_database(base, name.split("?")[0] + "_restore") as restore_url:
        yield restore_url


def _restore_and_check(archive, summary, before, ids, tmp_path, url) -> None:  # type: ignore[no-untyped-def]
    target = make_app(
        tmp_path / "restored",
        SQLALCHEMY_DATABASE_URI=url,
        ATTACHMENT_DIR=str(tmp_path / "restored-files"),
    )
    with target.app_context():
        db.create_all()
        restored = backup.restore(archive)
        assert restored.rows == summary.rows and restored.files == 2
        assert _counts() == before
        copy = db.session.scalar(select(Ticket).where(Ticket.subject == "Sauvegarde"))
        assert copy.reference == ids["reference"] and copy.messages[0].body_text
        attachment = db.session.scalar(select(Attachment))
        assert storage_path(attachment.sha256).read_bytes() == b"Status=FAILED Code=21000005"
        assert db.session.scalar(select(ClassifierModel.blob)).startswith(b"\x78")  # zlib
        assert [a.slug for a in kb.search("HMAC", limit=1)] == ["mac-hmac"]  # reindexed
        assert classification.current().version == 1
        # Work goes on after a restore: new rows get new ids.
        again = factories.ticket(db.session.get(User, ids["alice"]), "Après")
        assert again.id > copy.id
        client = target.test_client()
        login(client, db.session.get(User, ids["agent"]))
        assert client.get(f"/queue/tickets/{ids['reference']}").status_code == 200
        with pytest.raises(backup.BackupError, match="not empty"):
            backup.restore(archive)  # nothing is ever overwritten
        db.session.remove()
        db.engine.dispose()


def test_restore_refuses_what_is_not_a_backup(app, world, tmp_path) -> None:
    bogus = tmp_path / "bogus.tar.gz"
    bogus.write_bytes(b"not a tarball")
    with pytest.raises(backup.BackupError, match="not a SupportIT backup"):
        backup.restore(bogus)
    assert db.session.scalar(select(func.count(Message.id))) == 0


def test_the_backup_and_restore_commands(app, world, tmp_path) -> None:
    factories.ticket(world.alice, "Par la ligne de commande")
    runner = app.test_cli_runner()
    out = tmp_path / "cli.tar.gz"
    made = runner.invoke(args=["backup", "--output", str(out)])
    assert made.exit_code == 0, made.output
    assert str(out) in made.output and "rows" in made.output
    nowhere = tmp_path / "no-such-folder" / "cli.tar.gz"
    failed = runner.invoke(args=["backup", "--output", str(nowhere)])
    assert failed.exit_code == 1 and failed.exception.__class__ is SystemExit
    assert f"cannot write {nowhere}: No such file or directory" in failed.output
    refused = runner.invoke(args=["restore", str(out)])
    assert refused.exit_code != 0 and "not empty" in refused.output
    assert db.session.scalar(select(func.count(Article.id))) == 0


def test_a_failed_backup_leaves_no_partial_archive(app, world, tmp_path, monkeypatch) -> None:
    def full_disk(table):  # type: ignore[no-untyped-def]
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(backup, "_rows", full_disk)
    archive = tmp_path / "backup.tar.gz"
    with pytest.raises(OSError, match="No space left"):
        backup.create(archive)
    assert list(tmp_path.glob("backup.tar.gz*")) == []
