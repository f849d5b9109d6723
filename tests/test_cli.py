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
