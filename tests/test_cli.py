from click.testing import CliRunner
from sqlalchemy import select

from supportit.cli import main
from supportit.db import db
from supportit.models import Role, User


def test_supportit_command_lists_the_areas(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("SUPPORTIT_INSTANCE_PATH", str(tmp_path))
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for command in ("db", "demo", "run", "user"):
        assert command in result.output


def test_help_with_a_bad_setting_names_it_without_a_traceback(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("SUPPORTIT_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("SUPPORTIT_ENV", "production")
    monkeypatch.delenv("SUPPORTIT_SECRET_KEY", raising=False)
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    assert "supportit: SUPPORTIT_SECRET_KEY is required" in result.stderr
    assert "Traceback" not in result.output and "Traceback" not in result.stderr
    assert "Usage:" in result.stdout


def test_demo_load_prints_the_accounts(app) -> None:
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code == 0
    assert "alice@maliterie.example" in result.output and "demo-alice" in result.output
    assert "agent7@floa.example" in result.output


def test_user_create_makes_an_agent(app) -> None:
    result = app.test_cli_runner().invoke(
        args=[
            "user",
            "create",
            "--email",
            "New@Floa.example",
            "--name",
            "Nouvelle",
            "--role",
            "agent",
            "--password",
            "a-long-password",
        ]
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "new@floa.example"))
    assert user.role is Role.AGENT and user.check_password("a-long-password")


def test_user_create_refuses_a_short_password_clearly(app) -> None:
    result = app.test_cli_runner().invoke(
        args=[
            "user",
            "create",
            "--email",
            "x@floa.example",
            "--name",
            "X",
            "--role",
            "admin",
            "--password",
            "short",
        ]
    )
    assert result.exit_code == 1
    assert "at least 10 characters" in result.output or "au moins 10 caractères" in result.output


def test_tickets_list_and_show_as_json(app, world) -> None:
    import json
    from pathlib import Path

    from supportit.intake import pipeline

    raw = (Path(__file__).parent / "fixtures/mail/01_plain_new_ticket.eml").read_bytes()
    record = pipeline.ingest(raw, channel="eml")
    runner = app.test_cli_runner()
    listed = json.loads(runner.invoke(args=["tickets", "list", "--json"]).output)
    assert listed[0]["reference"] == record.ticket.reference
    assert listed[0]["merchant"] == "Ma Literie" and listed[0]["status"] == "new"
    shown = json.loads(
        runner.invoke(args=["tickets", "show", record.ticket.reference, "--json"]).output
    )
    assert shown["subject"] == "Paiement 3X refusé en production"
    assert shown["messages"][0]["source"] == "email"
    assert shown["messages"][0]["author"] == "alice@maliterie.example"
    missing = runner.invoke(args=["tickets", "show", "FLOA-999999", "--json"])
    assert missing.exit_code == 1 and "no ticket FLOA-999999" in missing.output


def test_intake_eml_reads_standard_input(app, world) -> None:
    from pathlib import Path

    raw = (Path(__file__).parent / "fixtures/mail/12_out_of_office_fr.eml").read_bytes()
    result = app.test_cli_runner().invoke(args=["intake", "eml", "-"], input=raw)
    assert result.exit_code == 0
    # A stable code, not a sentence: operators grep this line.
    assert result.output.startswith("inbound #1: auto_reply (auto_reply: Subject: ")
