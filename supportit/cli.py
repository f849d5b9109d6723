"""The `supportit` command: Flask's CLI bound to create_app, plus one group per area."""

from __future__ import annotations

import json
import sys
from datetime import date, datetime, time, timedelta
from pathlib import Path

import click
from flask import Flask
from flask.cli import FlaskGroup, ScriptInfo

from supportit.config import ConfigError
from supportit.db import db
from supportit.models import Priority, Status


def _create_app() -> Flask:
    from supportit import create_app

    return create_app()


class _Commands(FlaskGroup):
    def list_commands(self, ctx: click.Context) -> list[str]:
        # `supportit --help` with a bad setting: the setting in one line, then the commands
        # that need no application. Flask's own listing would print a traceback.
        try:
            ctx.ensure_object(ScriptInfo).load_app()
        except ConfigError as error:
            click.echo(f"supportit: {error}\n", err=True)
            return sorted(click.Group.list_commands(self, ctx))
        return super().list_commands(ctx)


@click.group(cls=_Commands, create_app=_create_app, add_version_option=False)
def main() -> None:
    """SupportIT: tickets and run supervision for FLOA Pay partner support."""


def run() -> None:
    """The `supportit` command. A bad setting ends it with one line naming the variable and
    status 2, as a wrong option does: the operator reads what to fix, not a traceback."""
    try:
        main()
    except ConfigError as error:
        click.echo(f"supportit: {error}", err=True)
        sys.exit(2)


demo_group = click.Group("demo", help="Demonstration data (invented merchants and people).")
intake_group = click.Group("intake", help="Receive mail: SMTP server, IMAP mailbox or one file.")
outbox_group = click.Group("outbox", help="Send the mail waiting in the outbox.")
tickets_group = click.Group("tickets", help="Look at tickets from the command line.")
user_group = click.Group("user", help="Manage user accounts.")
sla_group = click.Group("sla", help="Service levels counted in business time.")
calendar_group = click.Group("calendar", help="The team's business calendar and closed days.")
oncall_group = click.Group("oncall", help="On-call rotations, overrides and alert routing.")
alerts_group = click.Group("alerts", help="Raise, list, acknowledge and resolve alerts.")
monitors_group = click.Group("monitors", help="The scheduler process: SLA checks and monitors.")
paygate_group = click.Group("paygate", help="Computop Paygate: inspect requests and answers.")
kb_group = click.Group("kb", help="The knowledge base: load, export and search articles.")


@click.group("classify", invoke_without_command=True)
@click.option(
    "--jsonl",
    "jsonl",
    type=click.File("r", encoding="utf-8"),
    help='Lines {"subject": ..., "body": ...} ("-": standard input); prints one line per input.',
)
@click.pass_context
def classify_group(ctx: click.Context, jsonl) -> None:  # type: ignore[no-untyped-def]
    """Classify tickets, and train the classifier on the agents' decisions."""
    if ctx.invoked_subcommand is not None:
        return
    if jsonl is None:
        click.echo(ctx.get_help())
        return
    from supportit.services import classification

    loaded = classification.current()
    if loaded is None:
        raise click.ClickException(
            "no classifier: no stored model and no corpus (SUPPORTIT_CLASSIFY_CORPUS)"
        )
    failed = 0
    # One output line per input line, in order: a line that cannot be read gets an error line.
    for number, line in enumerate(jsonl, 1):
        try:
            item = json.loads(line)
            if not isinstance(item, dict):
                raise ValueError("not a JSON object")
            subject, body = item.get("subject") or "", item.get("body") or ""
            if not isinstance(subject, str) or not isinstance(body, str):
                raise ValueError("subject and body must be strings")
        except ValueError as error:
            failed += 1
            click.echo(json.dumps({"error": f"line {number}: {error}"}))
            continue
        prediction = classification.predict_many([(subject, body)], loaded)[0]
        click.echo(json.dumps(prediction.as_json(), ensure_ascii=False))
    if failed:
        raise SystemExit(1)


@monitors_group.command("run")
@click.option("--once", is_flag=True, help="Run every job once (if this process gets the lease).")
def monitors_run(once: bool) -> None:
    """Run the periodic jobs; with several processes, only the lease holder runs them."""
    from flask import current_app

    from supportit import scheduler

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if once:
        ran = scheduler.run_due_jobs(app, scheduler.holder_id())
        click.echo(f"ran: {', '.join(ran) or 'nothing (another scheduler holds the lease)'}")
        return
    scheduler.serve_forever(app)


def _settings(pairs: tuple[str, ...]) -> dict[str, object]:
    """`key=value` pairs; a value that reads as JSON (5, true, [200, 301]) is taken as such."""
    settings: dict[str, object] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{pair!r} is not key=value", param_hint="--set")
        try:
            settings[key.strip()] = json.loads(value)
        except ValueError:
            settings[key.strip()] = value
    return settings


def _monitor(name_or_id: str):  # type: ignore[no-untyped-def]
    from supportit.services import monitoring

    monitor = monitoring.find(name_or_id)
    if monitor is None:
        raise click.ClickException(f"no monitor {name_or_id!r}")
    return monitor


def _monitor_json(monitor) -> dict[str, object]:  # type: ignore[no-untyped-def]
    return {
        "id": monitor.id,
        "name": monitor.name,
        "kind": monitor.kind.value,
        "service": monitor.service,
        "target": monitor.target,
        "interval_seconds": monitor.interval_seconds,
        "paused": monitor.paused,
        "state": monitor.state.value if monitor.state else None,
        "last_checked_at": monitor.last_checked_at.isoformat() if monitor.last_checked_at else None,
        "settings": monitor.settings,
    }


@monitors_group.command("add")
@click.option("--name", required=True)
@click.option(
    "--kind",
    required=True,
    type=click.Choice(["http", "synthetic", "notification", "silence", "doclinks"]),
)
@click.option(
    "--service",
    required=True,
    type=click.Choice(
        ["payment", "capture", "credit", "reverse", "notifications", "documentation"]
    ),
)
@click.option("--target", default="", help="URL (http, doclinks) or Paygate base URL (synthetic).")
@click.option("--interval", "interval_seconds", default=60, show_default=True, type=int)
@click.option(
    "--failures",
    "failures_to_open",
    default=3,
    show_default=True,
    type=int,
    help="Consecutive failures that open an incident.",
)
@click.option(
    "--successes",
    "successes_to_close",
    default=2,
    show_default=True,
    type=int,
    help="Consecutive successes that resolve it.",
)
@click.option(
    "--ratio",
    "failure_ratio",
    default=0.0,
    type=float,
    help="Also open when this share of the window failed (0 = off).",
)
@click.option("--window", default=10, type=int, show_default=True)
@click.option("--merchant", "merchant_name", default=None, help="For silence monitors.")
@click.option(
    "--set",
    "settings",
    multiple=True,
    metavar="KEY=VALUE",
    help="timeout, retries, expected_text, expected_status, latency_warn_ms, "
    "cert_warn_days, mid, endpoint, deadline_seconds, source_monitor_id, priority...",
)
@click.option("--paused", is_flag=True)
def monitors_add(merchant_name: str | None, settings: tuple[str, ...], **fields) -> None:  # type: ignore[no-untyped-def]
    """Add a monitor (or replace the one with this name); the scheduler picks it up."""
    from sqlalchemy import func, select

    from supportit.models import Merchant
    from supportit.services import monitoring

    merchant_id = None
    if merchant_name:
        merchant = db.session.scalar(
            select(Merchant).where(func.lower(Merchant.name) == merchant_name.strip().lower())
        )
        if merchant is None:
            raise click.ClickException(f"no merchant named {merchant_name!r}")
        merchant_id = merchant.id
    existing = monitoring.find(fields["name"])
    data = monitoring.MonitorInput(merchant_id=merchant_id, settings=_settings(settings), **fields)
    monitor = _service_call(monitoring.save_monitor, None, data, existing)
    click.echo(json.dumps(_monitor_json(monitor), ensure_ascii=False))


@monitors_group.command("list")
@click.option("--json", "as_json", is_flag=True)
def monitors_list(as_json: bool) -> None:
    """Every monitor with its state."""
    from supportit.services import monitoring

    found = monitoring.all_monitors()
    if as_json:
        click.echo(json.dumps([_monitor_json(m) for m in found], ensure_ascii=False, indent=2))
        return
    for m in found:
        state = "paused" if m.paused else (m.state.value if m.state else "unknown")
        click.echo(f"{m.id:4} {state:9} {m.kind.value:12} {m.interval_seconds:5}s  {m.name}")


@monitors_group.command("pause")
@click.argument("monitor")
@click.option("--resume", is_flag=True, help="Resume a paused monitor instead.")
def monitors_pause(monitor: str, resume: bool) -> None:
    """Pause a monitor (no checks, no incident) or, with --resume, start it again."""
    from supportit.services import monitoring

    found = _monitor(monitor)
    _service_call(monitoring.set_paused, None, found, not resume)
    click.echo(f"{found.name}: {'resumed' if resume else 'paused'}")


@monitors_group.command("delete")
@click.argument("monitor")
def monitors_delete(monitor: str) -> None:
    """Delete a monitor and its history (its open alert is resolved)."""
    from supportit.services import monitoring

    found = _monitor(monitor)
    name = found.name
    _service_call(monitoring.delete_monitor, None, found)
    click.echo(f"{name}: deleted")


@monitors_group.command("check")
@click.argument("monitor")
def monitors_check(monitor: str) -> None:
    """Run one check now and record it, as the scheduler would."""
    from supportit.services import monitoring

    result = monitoring.check_now(_monitor(monitor))
    latency = f" {result.latency_ms:.0f} ms" if result.latency_ms is not None else ""
    click.echo(f"{result.status.value}{latency}: {result.detail}")


class InstantType(click.ParamType):
    """An ISO 8601 instant with an offset; one without is refused, never guessed."""

    name = "instant"

    def convert(self, value, param, ctx):  # type: ignore[no-untyped-def]
        from supportit.services.calendar import CalendarError, parse_instant

        if isinstance(value, datetime):
            return value
        try:
            return parse_instant(value)
        except CalendarError as error:
            self.fail(str(error), param, ctx)


INSTANT = InstantType()


def _service_call(function, *args, **kwargs):  # type: ignore[no-untyped-def]
    """Run a service; its refusal is the command's error message, in the user's language."""
    from supportit.services.errors import ServiceError

    try:
        return function(*args, **kwargs)
    except ServiceError as error:
        raise click.ClickException(str(error.message)) from None


@demo_group.command("load")
def demo_load() -> None:
    """Load the demo merchants, accounts and tickets. Running it again changes nothing."""
    from supportit.services import demo

    result = demo.load()
    click.echo(f"Demo data: {result.created} created, {result.existing} already present.")
    click.echo("")
    click.echo("Demo accounts (password after the slash):")
    for email, password, what in demo.ACCOUNTS_SUMMARY:
        click.echo(f"  {email:32} / {password:12} {what}")


@demo_group.command("generate")
@click.option("--tickets", type=click.IntRange(min=1), default=100_000, show_default=True)
@click.option("--messages-per-ticket", type=click.IntRange(min=1), default=5, show_default=True)
@click.option("--merchants", type=click.IntRange(min=1), default=300, show_default=True)
@click.option(
    "--years", type=click.FloatRange(min=0, min_open=True), default=3.0, show_default=True
)
@click.option("--seed", type=int, default=2026, show_default=True)
def demo_generate(
    tickets: int, messages_per_ticket: int, merchants: int, years: float, seed: int
) -> None:
    """Add years of realistic tickets, messages, events and monitor results, for benchmarks.

    Meant for a benchmark or staging database: it adds to what is there, and never to a
    production one by accident (it refuses when SUPPORTIT_ENV=production).
    """
    import time

    from flask import current_app

    from supportit.services import volume

    if current_app.config["SUPPORTIT_ENV"] == "production":
        raise click.ClickException("demo generate refuses to run with SUPPORTIT_ENV=production.")
    started = time.perf_counter()
    result = volume.generate(
        tickets, messages_per_ticket, merchants=merchants, years=years, seed=seed
    )
    click.echo(f"Generated {result.summary()} in {time.perf_counter() - started:.1f} s.")


@user_group.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", type=click.Choice(["agent", "admin"]), required=True)
@click.password_option()
def user_create(email: str, name: str, role: str, password: str) -> None:
    """Create a support agent or admin account."""
    from supportit.services import users

    user = _service_call(users.create_staff, email=email, name=name, role=role, password=password)
    click.echo(f"Created {user.role} {user.email}")


@intake_group.command("eml")
@click.argument("source", type=click.File("rb"), default="-")
def intake_eml(source) -> None:  # type: ignore[no-untyped-def]
    """Take one message from FILE (or standard input, for piping from an MTA)."""
    from supportit.intake import pipeline

    record = pipeline.ingest(source.read(), channel="eml")
    ticket = f" ticket {record.ticket.reference}" if record.ticket else ""
    # Stable codes rather than sentences: operators grep this line.
    reason = ""
    if record.reason_code:
        detail = f": {record.reason_detail}" if record.reason_detail else ""
        reason = f" ({record.reason_code.value}{detail})"
    click.echo(f"inbound #{record.id}: {record.status.value}{ticket}{reason}")


@intake_group.command("smtp")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=2525, show_default=True, type=int)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Processes filing mail in parallel (one per CPU core for heavy mail traffic).",
)
def intake_smtp(host: str, port: int, workers: int) -> None:
    """Run the SMTP intake server until stopped (Ctrl-C or SIGTERM)."""
    from flask import current_app

    from supportit.intake import smtp

    click.echo(f"SMTP intake on {host}:{port} ({workers} worker(s))")
    smtp.serve_forever(current_app._get_current_object(), host, port, workers)


@intake_group.command("imap")
@click.option("--once", is_flag=True, help="One poll, then exit (for cron).")
def intake_imap(once: bool) -> None:
    """Poll the mailbox set by SUPPORTIT_IMAP_* and move processed mail to a folder."""
    import time

    from flask import current_app

    from supportit.intake import imap

    try:
        box = imap.Mailbox.from_config()
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    while True:
        try:
            count = imap.fetch_once(box)
            click.echo(f"{box.name}: {count} message(s) fetched")
        except Exception as error:  # recorded for the agents; keep polling
            click.echo(f"{box.name}: fetching failed: {error}", err=True)
            if once:
                raise SystemExit(1) from None
        db.session.remove()
        if once:
            return
        time.sleep(current_app.config["IMAP_INTERVAL"])


@outbox_group.command("run")
@click.option("--once", is_flag=True, help="One pass over the due mail, then exit.")
# Half a second between idle passes: a page must leave within a second of its alert.
@click.option("--interval", default=0.5, show_default=True, help="Seconds between idle passes.")
def outbox_run(once: bool, interval: float) -> None:
    """Deliver pending mail and alert notifications, with retries, until stopped (SIGTERM)."""
    import signal
    import time

    from supportit.services import outbox

    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    while True:
        sent = outbox.deliver_due()
        db.session.remove()
        if once:
            click.echo(f"{sent} mail(s) and notification(s) sent")
            return
        if stopping:
            return
        if not sent:
            time.sleep(interval)


@tickets_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON document (a list of tickets).")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--status", type=click.Choice([s.value for s in Status]), default=None)
def tickets_list(as_json: bool, limit: int, status: str | None) -> None:
    """The most recently updated tickets."""
    from supportit.services import export

    rows = export.ticket_list(limit=limit, status=Status(status) if status else None)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        click.echo(
            f"{row['reference']}  {row['status']:16} {row['category']:16} "
            f"{row['merchant'] or '-':20} {row['subject']}"
        )


@tickets_group.command("show")
@click.argument("reference")
@click.option("--json", "as_json", is_flag=True, help="One JSON document, messages included.")
def tickets_show(reference: str, as_json: bool) -> None:
    """One ticket with its messages (internal notes included: this is an operator's view)."""
    from supportit.services import export

    document = export.ticket_document(reference)
    if document is None:
        raise click.ClickException(f"no ticket {reference}")
    if as_json:
        click.echo(json.dumps(document, ensure_ascii=False, indent=2))
        return
    click.echo(f"{document['reference']} [{document['status']}] {document['subject']}")
    for message in document["messages"]:
        kind = "note" if message["internal"] else "reply"
        click.echo(f"--- {message['created_at']} {message['author']} ({kind}, {message['source']})")
        click.echo(message["body"])


@sla_group.command("due")
@click.option("--start", type=INSTANT, required=True, help="ISO 8601 with offset.")
@click.option("--hours", type=click.FloatRange(min=0), required=True)
def sla_due(start: datetime, hours: float) -> None:
    """When HOURS business hours have elapsed from START (in the calendar's time zone)."""
    from supportit.services import sla

    calendar = sla.team_calendar()
    due = calendar.add(start, timedelta(hours=hours))
    click.echo(due.astimezone(calendar.zone).isoformat())


@sla_group.command("check")
def sla_check() -> None:
    """Record warnings and breaches that are due now (the scheduler does this every minute)."""
    from supportit.services import sla

    warned, breached = sla.check()
    click.echo(f"{warned} warning(s), {breached} breach(es) recorded")


@calendar_group.command("show")
@click.option("--at", "at", type=INSTANT, default=None, help="Default: now.")
def calendar_show(at: datetime | None) -> None:
    """Whether the team is at work at an instant, and when it next is (JSON)."""
    from supportit.db import utcnow
    from supportit.services import sla

    calendar = sla.team_calendar()
    at = at or utcnow()
    local = at.astimezone(calendar.zone)
    document = {
        "at": local.isoformat(),
        "business_hours": calendar.is_business_hours(at),
        "holiday": calendar.holiday(local.date()),
        "next_opening": calendar.next_opening(at).astimezone(calendar.zone).isoformat(),
    }
    click.echo(json.dumps(document, ensure_ascii=False, indent=2))


@calendar_group.command("close")
@click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--reason", required=True)
def calendar_close(day: datetime, reason: str) -> None:
    """Add a closed day (a bridge day, a team event): SLA clocks skip it."""
    from supportit.services import calendar

    _service_call(calendar.add_closed_day, day.date(), reason, actor=None)
    click.echo(f"{day.date().isoformat()} closed: {reason}")


@calendar_group.command("open")
@click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
def calendar_open(day: datetime) -> None:
    """Remove a closed day added before."""
    from supportit.services import calendar

    removed = calendar.remove_closed_day(day.date())
    click.echo(f"{day.date().isoformat()} {'reopened' if removed else 'was not a closed day'}")


@calendar_group.command("closed")
@click.option("--year", type=int, default=None, help="Default: this year.")
def calendar_closed(year: int | None) -> None:
    """Public holidays and closed days of a year."""
    from supportit.services import calendar

    year = year or date.today().year
    for day, name in calendar.days_off(year):
        click.echo(f"{day.isoformat()}  {name}")


@oncall_group.command("route")
@click.option("--at", "at", type=INSTANT, default=None, help="ISO 8601 with offset; default now.")
@click.option("--priority", type=click.Choice([p.value for p in Priority]), default="P1")
def oncall_route(at: datetime | None, priority: str) -> None:
    """Who would be told of an alert at AT, and how (JSON)."""
    from supportit.db import utcnow
    from supportit.services import oncall

    result = oncall.route(at or utcnow(), Priority(priority))
    click.echo(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))


@oncall_group.command("who")
@click.option("--at", "at", type=INSTANT, default=None, help="ISO 8601 with offset; default now.")
@click.option("--weeks", type=click.IntRange(0, 52), default=0, help="Also the shifts ahead.")
@click.option("--json", "as_json", is_flag=True)
def oncall_who(at: datetime | None, weeks: int, as_json: bool) -> None:
    """Who is on call at AT (now by default), and over the next WEEKS."""
    from supportit.db import utcnow
    from supportit.services import oncall, sla

    at = at or utcnow()
    zone = sla.team_calendar().zone
    rows = [
        {
            "rotation": shift.rotation.name,
            "layer": shift.rotation.layer,
            "email": shift.user.email if shift.user else None,
            "name": shift.user.name if shift.user else None,
            "from": shift.starts_at.astimezone(zone).isoformat(),
            "to": shift.ends_at.astimezone(zone).isoformat(),
            "override": shift.override is not None,
        }
        for shift in oncall.schedule(at, weeks)
    ]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo("no rotation configured")
    for row in rows:
        mark = " (override)" if row["override"] else ""
        click.echo(
            f"{row['rotation']:12} L{row['layer']} {row['from']} → {row['to']}  "
            f"{row['email'] or '-'}{mark}"
        )


@oncall_group.command("rotation")
@click.argument("name")
@click.option("--layer", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--members", required=True, help="Staff emails in turn order, comma-separated.")
@click.option("--start", "start", type=click.DateTime(["%Y-%m-%d"]), required=True)
@click.option("--handoff", default="09:00", show_default=True, help="Local hand-off time.")
@click.option("--period-days", type=click.IntRange(min=1), default=7, show_default=True)
@click.option("--timezone", default=None, help="Default: the calendar's zone.")
def oncall_rotation(
    name: str,
    layer: int,
    members: str,
    start: datetime,
    handoff: str,
    period_days: int,
    timezone: str | None,
) -> None:
    """Create or replace the rotation NAME."""
    from supportit.services import oncall

    try:
        handoff_time = time.fromisoformat(handoff)
    except ValueError:
        raise click.BadParameter(f"{handoff!r} is not a time such as 09:00") from None
    rotation = _service_call(
        oncall.save_rotation,
        name,
        layer=layer,
        members=[m.strip() for m in members.split(",") if m.strip()],
        start_date=start.date(),
        handoff_time=handoff_time,
        period_days=period_days,
        timezone=timezone,
    )
    click.echo(f"rotation {rotation.name}: layer {rotation.layer}, {len(rotation.members)} members")


@oncall_group.command("override")
@click.argument("rotation")
@click.option("--user", "email", required=True)
@click.option("--from", "starts_at", type=INSTANT, required=True)
@click.option("--to", "ends_at", type=INSTANT, required=True)
@click.option("--reason", default="")
def oncall_override(
    rotation: str, email: str, starts_at: datetime, ends_at: datetime, reason: str
) -> None:
    """USER covers ROTATION from --from to --to."""
    from supportit.services import oncall

    found = _service_call(oncall.rotation_named, rotation)
    _service_call(oncall.add_override, found, email, starts_at, ends_at, reason=reason)
    click.echo(f"{email} covers {rotation} from {starts_at.isoformat()} to {ends_at.isoformat()}")


@oncall_group.command("contact")
@click.argument("email")
@click.argument("methods", nargs=-1, required=True)
def oncall_contact(email: str, methods: tuple[str, ...]) -> None:
    """Set how EMAIL is paged, in order: sms:+33612345678 voice:+336... mail:x@y webhook:URL."""
    from supportit.services import oncall
    from supportit.services.users import find_by_email

    user = find_by_email(email)
    if user is None:
        raise click.ClickException(f"no user {email}")
    pairs = []
    for method in methods:
        kind, _, address = method.partition(":")
        pairs.append((kind, address))
    _service_call(oncall.set_contact_methods, user, pairs)
    click.echo(f"{email}: {len(pairs)} contact method(s)")


@oncall_group.command("export")
@click.option("--weeks", type=click.IntRange(1, 104), default=8, show_default=True)
@click.argument("target", type=click.File("wb"), default="-")
def oncall_export(weeks: int, target) -> None:  # type: ignore[no-untyped-def]
    """The schedule as iCalendar (to TARGET, or standard output)."""
    from supportit.db import utcnow
    from supportit.services import oncall_ics

    target.write(oncall_ics.export(utcnow(), weeks=weeks))


@oncall_group.command("import")
@click.argument("source", type=click.File("rb"))
def oncall_import(source) -> None:  # type: ignore[no-untyped-def]
    """Overrides from an iCalendar file: each event names a rotation and an agent's email."""
    from supportit.services import oncall_ics

    created = _service_call(oncall_ics.import_overrides, source.read())
    click.echo(f"{created} override(s) imported")


def _alert_json(alert) -> dict[str, object]:  # type: ignore[no-untyped-def]
    def instant(value: datetime | None) -> str | None:
        return value.isoformat().replace("+00:00", "Z") if value else None

    return {
        "id": alert.id,
        "key": alert.dedup_key,
        "title": alert.title,
        "priority": alert.priority.value,
        "source": alert.source.value,
        "status": alert.status.value,
        "route": alert.route,
        "occurrences": alert.occurrences,
        "ticket": alert.ticket.reference if alert.ticket else None,
        "opened_at": instant(alert.opened_at),
        "next_step_at": instant(alert.next_step_at),
        "exhausted": alert.exhausted,
        "timeline": [
            {
                "at": instant(event.at),
                "action": event.action,
                "channel": event.channel,
                "recipient": event.recipient,
                "detail": event.detail,
            }
            for event in alert.events
        ],
    }


def _alert(alert_id: int):  # type: ignore[no-untyped-def]
    from supportit.models import Alert

    alert = db.session.get(Alert, alert_id)
    if alert is None:
        raise click.ClickException(f"alerte {alert_id} introuvable")
    return alert


@alerts_group.command("raise")
@click.option("--key", required=True, help="Deduplication key: the same key while open adds up.")
@click.option("--title", required=True)
@click.option("--priority", type=click.Choice([p.value for p in Priority]), default="P1")
@click.option("--details", default="")
def alerts_raise(key: str, title: str, priority: str, details: str) -> None:
    """Raise an alert (as a monitor would) and print it as JSON, with whom it told."""
    from supportit.services import alerts

    raised = _service_call(
        alerts.raise_alert, key, title, priority=Priority(priority), details=details
    )
    click.echo(json.dumps({"created": raised.created, **_alert_json(raised.alert)}, indent=2))


@alerts_group.command("list")
@click.option("--json", "as_json", is_flag=True)
def alerts_list(as_json: bool) -> None:
    """Alerts in progress (open or acknowledged)."""
    from supportit.services import alerts

    found = alerts.active()
    if as_json:
        click.echo(json.dumps([_alert_json(a) for a in found], ensure_ascii=False, indent=2))
        return
    if not found:
        click.echo("aucune alerte en cours")
    for alert in found:
        click.echo(
            f"#{alert.id:<5} {alert.status.value:12} {alert.priority.value} {alert.route:6} "
            f"x{alert.occurrences:<3} {alert.dedup_key}  {alert.title}"
        )


@alerts_group.command("show")
@click.argument("alert_id", type=int)
def alerts_show(alert_id: int) -> None:
    """One alert and its timeline, as JSON."""
    click.echo(json.dumps(_alert_json(_alert(alert_id)), ensure_ascii=False, indent=2))


@alerts_group.command("ack")
@click.argument("alert_id", type=int)
def alerts_ack(alert_id: int) -> None:
    """Acknowledge an alert: its escalation stops."""
    from supportit.services import alerts

    changed = _service_call(alerts.acknowledge, _alert(alert_id), None, via="cli")
    click.echo("acquittée" if changed else "déjà acquittée")


@alerts_group.command("resolve")
@click.argument("alert_id", type=int)
def alerts_resolve(alert_id: int) -> None:
    """Resolve an alert: whoever was paged is told."""
    from supportit.services import alerts

    changed = _service_call(alerts.resolve, _alert(alert_id), None, via="cli")
    click.echo("résolue" if changed else "déjà résolue")


@alerts_group.command("escalate")
def alerts_escalate() -> None:
    """Run the escalation steps that are due (the scheduler does this every 15 s)."""
    from supportit.services import alerts

    click.echo(f"{alerts.escalate_due()} étape(s) d'escalade")


@paygate_group.command("inspect")
@click.option("--file", "source", required=True, help="The pasted request or answer; - for stdin.")
@click.option("--blowfish-key", envvar="PAYGATE_BLOWFISH_KEY", help="The merchant's Data key.")
@click.option("--hmac-key", envvar="PAYGATE_HMAC_KEY", help="The merchant's HMAC key.")
@click.option(
    "--format", "output", type=click.Choice(["text", "json"]), default="text", show_default=True
)
def paygate_inspect(
    source: str, blowfish_key: str | None, hmac_key: str | None, output: str
) -> None:
    """Decrypt, check and explain what a merchant sent to Paygate or received from it.

    Exit status: 1 when a finding is an error, 0 otherwise, 2 when the input cannot be read.
    Keys may come from PAYGATE_BLOWFISH_KEY and PAYGATE_HMAC_KEY, out of the shell's history.
    """
    import sys

    from supportit.paygate.inspect import MAX_INPUT, inspect
    from supportit.paygate.report_text import render_text

    try:
        if source == "-":
            raw = sys.stdin.buffer.read(MAX_INPUT + 1)
        else:
            with open(source, "rb") as handle:
                # One byte more than the limit is enough to report a paste as too large.
                raw = handle.read(MAX_INPUT + 1)
    except OSError as error:
        click.echo(f"cannot read {source}: {error.strerror or error}", err=True)
        sys.exit(2)
    report = inspect(raw, blowfish_key=blowfish_key, hmac_key=hmac_key)
    if output == "json":
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(render_text(report))
    sys.exit(1 if report.has_errors else 0)


def _update_running_stand_in(host: str, port: int, faults) -> bool:  # type: ignore[no-untyped-def]
    """True when a stand-in already answers on host:port and took the new faults."""
    import requests

    try:
        answer = requests.post(
            f"http://{host}:{port}/_fake/faults", json=faults.to_json(), timeout=2
        )
    except requests.RequestException:
        return False
    return answer.status_code == 200 and answer.headers.get("Content-Type", "").startswith(
        "application/json"
    )


@paygate_group.command("fake")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5080, show_default=True, type=int)
@click.option(
    "--merchant",
    "merchants",
    multiple=True,
    metavar="MID:KEY:HMAC",
    help="An account the stand-in knows (default: the demo merchant's).",
)
@click.option(
    "--fail",
    multiple=True,
    type=click.Choice(["floapay.aspx", "capture.aspx", "credit.aspx", "reverse.aspx"]),
    help="Answer HTTP 500 on this endpoint.",
)
@click.option("--slow", multiple=True, metavar="ENDPOINT=SECONDS", help="Answer late (* = all).")
@click.option("--bad-mac", is_flag=True, help="Sign answers with a wrong MAC.")
@click.option("--wrong-len", is_flag=True, help="Send a Len 3 bytes short.")
@click.option("--no-notify", is_flag=True, help="Never call URLNotify.")
@click.option(
    "--notify-delays",
    default=None,
    metavar="S,S,...",
    help="Seconds of each URLNotify attempt after the first (default: Paygate's).",
)
def paygate_fake(
    host: str,
    port: int,
    merchants: tuple[str, ...],
    fail: tuple[str, ...],
    slow: tuple[str, ...],
    bad_mac: bool,
    wrong_len: bool,
    no_notify: bool,
    notify_delays: str | None,
) -> None:
    """Run a local Paygate stand-in (demo and tests); faults can change at run time through
    POST /_fake/faults."""
    from supportit.paygate.fake import DEMO_ACCOUNT, PAYGATE_RETRIES, Account, FakePaygate, Faults

    accounts = []
    for text in merchants or (":".join(DEMO_ACCOUNT),):
        parts = text.split(":")
        if len(parts) != 3 or not all(parts):
            raise click.BadParameter(f"{text!r} is not MID:KEY:HMAC", param_hint="--merchant")
        accounts.append(Account(*parts))
    delays_map = {}
    for item in slow:
        name, _, seconds = item.partition("=")
        try:
            delays_map[name] = float(seconds)
        except ValueError:
            raise click.BadParameter(
                f"{item!r} is not ENDPOINT=SECONDS", param_hint="--slow"
            ) from None
    try:
        delays = (
            tuple(float(value) for value in notify_delays.split(","))
            if notify_delays
            else PAYGATE_RETRIES
        )
    except ValueError:
        raise click.BadParameter(
            "seconds separated by commas", param_hint="--notify-delays"
        ) from None
    faults = Faults(set(fail), delays_map, bad_mac, wrong_len, no_notify)
    if _update_running_stand_in(host, port, faults):
        # `make run` already started one on this port: change its faults instead, so that a
        # newcomer can make a monitor fail with one command.
        click.echo(f"Paygate stand-in on http://{host}:{port}/ now has faults: {faults.to_json()}")
        return
    fake = FakePaygate(accounts, faults, delays)
    click.echo(
        f"Paygate stand-in on http://{host}:{port}/ (MerchantIDs: "
        f"{', '.join(a.mid for a in accounts)}); faults: {faults.to_json()}"
    )
    fake.serve_forever(host, port)


paygate_keys_group = click.Group("keys", help="Merchants' Paygate keys, sealed at rest.")
paygate_group.add_command(paygate_keys_group)


@paygate_keys_group.command("set")
@click.option("--merchant", "merchant_name", required=True, help="The merchant's name.")
@click.option("--mid", required=True, help="The Paygate MerchantID.")
@click.option(
    "--environment",
    type=click.Choice(["recette", "production"]),
    default="production",
    show_default=True,
)
@click.option("--blowfish-key", envvar="PAYGATE_BLOWFISH_KEY", help="Asked for when not given.")
@click.option("--hmac-key", envvar="PAYGATE_HMAC_KEY", help="Asked for when not given.")
def paygate_keys_set(
    merchant_name: str, mid: str, environment: str, blowfish_key: str | None, hmac_key: str | None
) -> None:
    """Store (or replace) a MerchantID's keys; an empty answer keeps the stored key."""
    from sqlalchemy import func, select

    from supportit.models import Merchant
    from supportit.services import paygate

    merchant = db.session.scalar(
        select(Merchant).where(func.lower(Merchant.name) == merchant_name.strip().lower())
    )
    if merchant is None:
        raise click.ClickException(f"no merchant named {merchant_name!r}")
    existing = paygate.account_for_mid(mid)
    if blowfish_key is None:
        blowfish_key = click.prompt("Blowfish key", default="", hide_input=True, show_default=False)
    if hmac_key is None:
        hmac_key = click.prompt("HMAC key", default="", hide_input=True, show_default=False)
    account = _service_call(
        paygate.save_account,
        None,
        merchant,
        mid,
        environment,
        blowfish_key or None,
        hmac_key or None,
        existing=existing,
    )
    click.echo(f"{account.mid}: keys saved for {merchant.name} ({account.environment})")


@paygate_keys_group.command("list")
def paygate_keys_list() -> None:
    """Every MerchantID with whether its keys are set (never the keys themselves)."""
    from supportit.services import paygate, vault

    current = vault.current_key_id()
    for account in paygate.accounts():
        blowfish = "set" if account.blowfish_key_sealed else "-"
        hmac = "set" if account.hmac_key_sealed else "-"
        sealed = "current secret" if account.key_id == current else "previous secret"
        click.echo(
            f"{account.mid:30} {account.merchant.name:30} {account.environment:10} "
            f"blowfish={blowfish:3} hmac={hmac:3} {sealed}"
        )


@paygate_keys_group.command("rotate")
def paygate_keys_rotate() -> None:
    """Re-seal every key under the current secret (old ones in SUPPORTIT_SECRET_KEY_FALLBACKS)."""
    import sys

    from supportit.services import paygate

    done, failed = paygate.rotate_keys()
    click.echo(f"{done} account(s) re-sealed under the current secret")
    for mid in failed:
        click.echo(
            f"{mid}: sealed under a secret not configured any more; set its keys again", err=True
        )
    sys.exit(1 if failed else 0)


@paygate_keys_group.command("delete")
@click.argument("mid")
def paygate_keys_delete(mid: str) -> None:
    """Forget a MerchantID and its keys."""
    from supportit.services import paygate

    account = paygate.account_for_mid(mid)
    if account is None:
        raise click.ClickException(f"no Paygate account {mid!r}")
    paygate.delete_account(None, account)
    click.echo(f"{mid}: deleted")


@click.command("backup")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Archive to write (default: instance/backups/supportit-<UTC time>.tar.gz).",
)
def backup_command(output: Path | None) -> None:
    """Back up the database and the stored files into one .tar.gz."""
    from flask import current_app

    from supportit.db import utcnow
    from supportit.services import backup

    if output is None:
        folder = Path(current_app.instance_path) / "backups"
        folder.mkdir(parents=True, exist_ok=True)
        output = folder / f"supportit-{utcnow():%Y%m%d-%H%M%S}.tar.gz"
    try:
        summary = backup.create(output)
    except OSError as error:
        raise click.ClickException(f"cannot write {output}: {error.strerror}") from None
    click.echo(
        f"{output}: {summary.rows} rows in {summary.tables} tables, {summary.files} files, "
        f"schema {summary.revision or 'unversioned'}"
    )


@click.command("restore")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def restore_command(archive: Path) -> None:
    """Restore a backup into this database, which must be new (empty, migrated)."""
    from supportit.services import backup

    try:
        summary = backup.restore(archive)
    except backup.BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Restored {summary.rows} rows and {summary.files} files from {archive}.")


@kb_group.command("sync")
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder of Markdown articles (default: the project's kb/).",
)
@click.option(
    "--force", is_flag=True, help="Replace articles edited in the UI since the last sync."
)
def kb_sync(directory: Path | None, force: bool) -> None:
    """Load the articles of kb/ into the database. Running it again changes nothing."""
    from supportit import PROJECT_ROOT
    from supportit.services import kb

    directory = directory or PROJECT_ROOT / "kb"
    if not directory.is_dir():
        raise click.ClickException(f"{directory} is not a folder")
    result = kb.sync(directory, force=force)
    click.echo(
        f"Knowledge base: {len(result.created)} created, {len(result.updated)} updated, "
        f"{result.unchanged} unchanged, {len(result.retired)} unpublished (file removed)."
    )
    for slug in result.kept_ui_edits:
        click.echo(
            f"  kept the UI's edit of {slug}: export it (supportit kb export --slug {slug}) "
            "or sync with --force",
        )
    for error in result.errors:
        click.echo(f"  skipped {error}", err=True)
    if result.errors:
        raise SystemExit(1)


@kb_group.command("export")
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder to write to (default: the project's kb/).",
)
@click.option("--slug", "slugs", multiple=True, help="Only this article (repeatable).")
def kb_export(directory: Path | None, slugs: tuple[str, ...]) -> None:
    """Write articles back to Markdown files, edits made in the UI included."""
    from supportit import PROJECT_ROOT
    from supportit.services import kb

    written = kb.export(directory or PROJECT_ROOT / "kb", slugs or None)
    for path in written:
        click.echo(str(path))
    if slugs and len(written) < len(slugs):
        raise click.ClickException("some slugs are not in the knowledge base")


@kb_group.command("search")
@click.argument("query", nargs=-1, required=True)
@click.option("--limit", default=10, show_default=True)
def kb_search_command(query: tuple[str, ...], limit: int) -> None:
    """Search the published articles as the help centre does: slug, category, English title."""
    from supportit.services import kb

    for article in kb.search(" ".join(query), limit=limit):
        click.echo(f"{article.slug}\t{article.category}\t{article.title_en}")


@classify_group.command("train")
@click.option(
    "--corpus",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=None,
    help="Folder of labelled *.jsonl tickets (default: SUPPORTIT_CLASSIFY_CORPUS).",
)
def classify_train(corpus: Path | None) -> None:
    """Retrain on the corpus and the tickets agents confirmed; store and use the new version."""
    from supportit.services import classification

    trained = _service_call(classification.train, corpus)
    model, metrics = trained.model, trained.evaluation.as_json()
    click.echo(
        f"Model version {model.version} in use: {model.corpus_examples} corpus examples, "
        f"{model.confirmed_examples} confirmed by agents."
    )
    click.echo(
        f"Held-out ({metrics['held_out']} tickets): accuracy {metrics['accuracy']:.1%}, "
        f"macro-F1 {metrics['macro_f1']:.1%}, RUN recall {metrics['run_recall']:.1%}."
    )


@classify_group.command("models")
def classify_models() -> None:
    """The stored model versions, the one in use marked with *."""
    from supportit.services import classification

    for model in classification.models():
        mark = "*" if model.active else " "
        accuracy = model.metrics.get("accuracy")
        click.echo(
            f"{mark} v{model.version}\t{model.created_at:%Y-%m-%d %H:%M}\t"
            f"{model.corpus_examples}+{model.confirmed_examples} examples\t"
            f"accuracy {accuracy if accuracy is not None else '-'}"
        )


@classify_group.command("activate")
@click.argument("version", type=int)
def classify_activate(version: int) -> None:
    """Use a stored version again (to roll back a worse model)."""
    from supportit.services import classification

    model = _service_call(classification.activate, version)
    click.echo(f"Model version {model.version} in use.")


def init_app(app: Flask) -> None:
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
    app.cli.add_command(classify_group)
    app.cli.add_command(kb_group)
    app.cli.add_command(paygate_group)
    app.cli.add_command(alerts_group)
    app.cli.add_command(monitors_group)
    app.cli.add_command(oncall_group)
    app.cli.add_command(sla_group)
    app.cli.add_command(calendar_group)
    app.cli.add_command(demo_group)
    app.cli.add_command(intake_group)
    app.cli.add_command(outbox_group)
    app.cli.add_command(tickets_group)
    app.cli.add_command(user_group)
    app.shell_context_processor(lambda: {"db": db})
