"""Alerts: told to the team in business hours, paged and escalated outside them, never twice.

Time is driven by time-machine; notifications are delivered over real HTTP and SMTP to sinks
on loopback.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
import time_machine
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from supportit.db import db
from supportit.models import (
    Alert,
    AlertSource,
    AlertStatus,
    Category,
    Environment,
    Notification,
    NotificationStatus,
    Priority,
    Role,
    Status,
)
from supportit.services import alerts, notifications, oncall, outbox, tickets
from supportit.services.calendar import parse_instant
from supportit.services.errors import ServiceError
from supportit.services.tickets import NewTicket
from tests import factories
from tests.conftest import login
from tests.http_sink import HttpSink
from tests.smtp_sink import start_sink

# Tuesday 30 March 2027, Paris in summer time (UTC+2).
NIGHT = "2027-03-30T22:00:00+02:00"
DAY = "2027-03-30T10:00:00+02:00"


@pytest.fixture
def http_sink(app) -> Iterator[HttpSink]:  # type: ignore[no-untyped-def]
    sink = HttpSink().start()
    app.config.update(
        SMS_PROVIDER_URL=f"{sink.url}/sms",
        SMS_PROVIDER_TOKEN="sms-token",
        VOICE_PROVIDER_URL=f"{sink.url}/voice",
        WEBHOOK_SIGNING_SECRET="webhook-secret",
    )
    yield sink
    sink.stop()


@pytest.fixture
def smtp(app):  # type: ignore[no-untyped-def]
    controller, sink = start_sink()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=controller.port)
    yield sink
    controller.stop()


@pytest.fixture
def engineers(world, http_sink):  # type: ignore[no-untyped-def]
    """Primary: agent2 then agent, weekly from Monday 22 March 2027 (agent the week of the 29th);
    secondary: agent3; the team lead is paged by webhook."""
    agent3 = factories.user("agent3@floa.example", Role.AGENT, name="Inès Astreinte")
    lead = factories.user("lead@floa.example", Role.AGENT, name="Léa Lead")
    db.session.commit()
    oncall.save_rotation(
        "primaire",
        layer=1,
        members=[world.agent2.email, world.agent.email],
        start_date=date(2027, 3, 22),
    )
    oncall.save_rotation(
        "secondaire", layer=2, members=[agent3.email], start_date=date(2027, 3, 22)
    )
    oncall.set_contact_methods(world.agent, [("sms", "+33600000001"), ("mail", world.agent.email)])
    oncall.set_contact_methods(world.agent2, [("sms", "+33600000002")])
    oncall.set_contact_methods(agent3, [("sms", "+33600000003")])
    oncall.set_contact_methods(lead, [("webhook", f"{http_sink.url}/hook/lead")])
    alerts.policy().team_lead = lead
    db.session.commit()
    return world, agent3, lead


def _ticket(requester, subject: str, **fields: object):  # type: ignore[no-untyped-def]
    """A merchant's ticket; by default production-down (RUN, P1, production)."""
    fields = {
        "category": Category.RUN,
        "priority": Priority.P1,
        "environment": Environment.PRODUCTION,
        **fields,
    }
    new = NewTicket(subject=subject, body="Les paiements sont refusés.", **fields)
    return tickets.open_ticket(requester.merchant, requester, new)


def _pages(alert: Alert, kind: str = "page") -> list[tuple[str, str]]:
    return [
        (n.channel.value, n.address)
        for n in db.session.scalars(
            select(Notification)
            .where(Notification.alert_id == alert.id, Notification.kind == kind)
            .order_by(Notification.id)
        )
    ]


def _actions(alert: Alert) -> list[str]:
    db.session.refresh(alert)
    return [event.action for event in alert.events]


def test_outside_business_hours_an_alert_pages_the_primary_on_call(engineers) -> None:
    world, _, _ = engineers
    with time_machine.travel(parse_instant(NIGHT), tick=False):
        raised = alerts.raise_alert("paygate:down", "Paygate ne répond plus")
    alert = raised.alert
    assert raised.created and alert.route == "oncall" and alert.status is AlertStatus.OPEN
    assert _pages(alert) == [("sms", "+33600000001"), ("mail", world.agent.email)]
    assert alert.next_step_at == parse_instant(NIGHT) + timedelta(minutes=10)
    assert _actions(alert)[:1] == ["created"]
    assert _actions(alert).count("notified") == 2


def test_during_business_hours_it_goes_to_the_team_and_not_to_anyone_s_phone(engineers) -> None:
    world, _, _ = engineers
    with time_machine.travel(parse_instant(DAY), tick=False):
        alert = alerts.raise_alert("paygate:down", "Paygate ne répond plus").alert
    assert alert.route == "team"
    assert {address for channel, address in _pages(alert, "team")} >= {
        world.agent.email,
        world.agent2.email,
        world.admin.email,
    }
    assert _pages(alert) == []
    # Still unacknowledged at 18:00 Paris, it goes to the on-call engineer.
    assert alert.next_step_at == parse_instant("2027-03-30T18:00:00+02:00")
    with time_machine.travel(parse_instant("2027-03-30T18:00:10+02:00"), tick=False):
        assert alerts.escalate_due() == 1
    assert alert.route == "oncall"
    assert _pages(alert) == [("sms", "+33600000001"), ("mail", world.agent.email)]
    assert "handed_over" in _actions(alert)


def test_the_same_key_while_open_never_pages_twice(engineers) -> None:
    with time_machine.travel(parse_instant(NIGHT), tick=False):
        first = alerts.raise_alert("notify:literie", "Notifications en échec")
        second = alerts.raise_alert("notify:literie", "Notifications en échec", details="again")
    assert not second.created and second.alert.id == first.alert.id
    assert second.alert.occurrences == 2
    assert len(_pages(first.alert)) == 2
    assert db.session.scalar(select(func.count(Alert.id))) == 1
    assert "repeated" in _actions(first.alert)
    # Once resolved, the same key opens a new alert (a new incident), which pages again.
    alerts.resolve(first.alert, None)
    with time_machine.travel(parse_instant(NIGHT) + timedelta(hours=1), tick=False):
        third = alerts.raise_alert("notify:literie", "Notifications en échec")
    assert third.created and third.alert.id != first.alert.id
    assert len(_pages(third.alert)) == 2


def test_the_database_refuses_two_open_alerts_with_one_key(engineers) -> None:
    # What protects two processes raising the same alert at the same instant.
    with time_machine.travel(parse_instant(NIGHT), tick=False):
        alerts.raise_alert("k", "One")
    twin = Alert(
        dedup_key="k",
        source=AlertSource.MONITOR,
        title="Twin",
        priority=Priority.P1,
        route="team",
        policy={},
    )
    db.session.add(twin)
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_escalation_primary_secondary_lead_then_bounded_repeats(engineers) -> None:
    world, _agent3, lead = engineers
    start = parse_instant(NIGHT)
    with time_machine.travel(start, tick=False):
        alert = alerts.raise_alert("paygate:down", "Paygate ne répond plus").alert
    seen = []
    minute = 0
    while alert.next_step_at is not None and minute < 24 * 60:
        minute += 1
        with time_machine.travel(start + timedelta(minutes=minute), tick=False):
            if alerts.escalate_due():
                seen.append(minute)
        db.session.refresh(alert)
    # Steps every 10 minutes: secondary at 10, lead at 20, then the policy again (2 repeats),
    # then nothing more: the alert stays open, marked as unanswered.
    assert seen == [10, 20, 30, 40, 50, 60, 70, 80, 90]
    assert alert.exhausted and alert.status is AlertStatus.OPEN
    pages = _pages(alert)
    assert pages.count(("sms", "+33600000001")) == 3  # the primary, once per cycle
    assert pages.count(("sms", "+33600000003")) == 3  # the secondary
    assert pages.count(("webhook", f"{alert_sink_url(lead)}")) == 3  # the team lead
    assert "exhausted" in _actions(alert)
    assert {address for _, address in _pages(alert, "unanswered")} >= {world.admin.email}
    # Nothing left to run, whatever the time.
    with time_machine.travel(start + timedelta(days=1), tick=False):
        assert alerts.escalate_due() == 0


def alert_sink_url(user) -> str:  # type: ignore[no-untyped-def]
    return oncall.contact_methods(user)[0].address


def test_an_acknowledged_alert_stops_escalating(engineers) -> None:
    world, _, _ = engineers
    start = parse_instant(NIGHT)
    with time_machine.travel(start, tick=False):
        alert = alerts.raise_alert("paygate:down", "Paygate ne répond plus").alert
    with time_machine.travel(start + timedelta(minutes=3), tick=False):
        assert alerts.acknowledge(alert, world.agent)
        assert not alerts.acknowledge(alert, world.agent)  # twice is harmless
    with time_machine.travel(start + timedelta(hours=2), tick=False):
        assert alerts.escalate_due() == 0
    assert alert.status is AlertStatus.ACKNOWLEDGED and alert.acknowledged_by == world.agent
    assert len(_pages(alert)) == 2


def test_an_alert_follows_the_policy_it_opened_with(engineers) -> None:
    world, _agent3, _lead = engineers
    start = parse_instant(NIGHT)
    with time_machine.travel(start, tick=False):
        alert = alerts.raise_alert("paygate:down", "Paygate ne répond plus").alert
    # The admin makes the secondary wait 30 minutes; the open alert keeps its 10.
    alerts.save_policy(
        world.admin,
        [alerts.Step("oncall:1", 0), alerts.Step("oncall:2", 30)],
        repeats=0,
        team_lead=None,
    )
    with time_machine.travel(start + timedelta(minutes=10, seconds=5), tick=False):
        assert alerts.escalate_due() == 1
    assert ("sms", "+33600000003") in _pages(alert)
    with time_machine.travel(start + timedelta(hours=1), tick=False):
        later = alerts.raise_alert("other", "Autre").alert
    assert later.policy["steps"][1]["after_minutes"] == 30
    assert later.next_step_at == start + timedelta(hours=1, minutes=30)


def test_policy_edits_are_checked(engineers) -> None:
    world, _, _ = engineers
    with pytest.raises(ServiceError):
        alerts.save_policy(world.agent, [alerts.Step("oncall:1", 0)], repeats=1, team_lead=None)
    with pytest.raises(ServiceError):
        alerts.save_policy(world.admin, [], repeats=1, team_lead=None)
    with pytest.raises(ServiceError):
        alerts.save_policy(world.admin, [alerts.Step("ceo", 0)], repeats=1, team_lead=None)
    with pytest.raises(ServiceError):
        alerts.save_policy(
            world.admin,
            [alerts.Step("oncall:1", 0), alerts.Step("oncall:2", 0)],
            repeats=1,
            team_lead=None,
        )
    with pytest.raises(ServiceError):
        alerts.save_policy(
            world.admin, [alerts.Step("oncall:1", 0)], repeats=1, team_lead=world.alice.email
        )


def test_resolving_tells_whoever_was_paged(engineers) -> None:
    _world, agent3, _ = engineers
    start = parse_instant(NIGHT)
    with time_machine.travel(start, tick=False):
        alert = alerts.raise_alert("paygate:down", "Paygate ne répond plus").alert
    with time_machine.travel(start + timedelta(minutes=11), tick=False):
        alerts.escalate_due()
        alerts.resolve(alert, agent3)
    assert set(_pages(alert, "resolved")) == set(_pages(alert))
    assert alert.resolved_by == agent3 and alert.next_step_at is None
    assert not alerts.resolve(alert, agent3)


def test_nobody_on_call_falls_back_to_the_team_with_a_warning(world) -> None:
    with time_machine.travel(parse_instant(NIGHT), tick=False):
        alert = alerts.raise_alert("paygate:down", "Paygate ne répond plus").alert
    assert alert.route == "team"
    assert world.agent.email in {address for _, address in _pages(alert, "team")}
    warnings = [e.detail for e in alert.events if e.action == "warning"]
    assert warnings and "falling back to the whole team" in warnings[0]
    # It keeps trying to find someone, a bounded number of times.
    assert alert.next_step_at == parse_instant(NIGHT) + timedelta(minutes=10)


def test_an_sms_without_a_provider_falls_back_to_mail_with_a_warning(engineers, app) -> None:
    _world, agent3, _ = engineers
    app.config["SMS_PROVIDER_URL"] = None
    start = parse_instant(NIGHT)
    with time_machine.travel(start + timedelta(minutes=0), tick=False):
        alert = alerts.raise_alert("paygate:down", "Paygate").alert
    with time_machine.travel(start + timedelta(minutes=10), tick=False):
        alerts.escalate_due()
    assert ("mail", agent3.email) in _pages(alert)
    assert any("no provider configured" in (e.detail or "") for e in alert.events)


def test_escalation_ten_minutes_across_the_spring_dst_change(engineers) -> None:
    # 01:55 Paris winter time; ten minutes later the clocks read 03:05 summer time.
    start = parse_instant("2027-03-28T01:55:00+01:00")
    with time_machine.travel(start, tick=False):
        alert = alerts.raise_alert("paygate:down", "Paygate").alert
    assert alert.route == "oncall"
    assert alert.next_step_at == parse_instant("2027-03-28T03:05:00+02:00")
    with time_machine.travel(parse_instant("2027-03-28T03:04:59+02:00"), tick=False):
        assert alerts.escalate_due() == 0
    with time_machine.travel(parse_instant("2027-03-28T03:05:00+02:00"), tick=False):
        assert alerts.escalate_due() == 1


def test_friday_evening_hand_over_waits_for_18h_paris_in_winter(engineers) -> None:
    # Friday 26 November 2027, 17:55 Paris (UTC+1): the team has it until 18:00 = 17:00Z.
    with time_machine.travel(parse_instant("2027-11-26T17:55:00+01:00"), tick=False):
        alert = alerts.raise_alert("paygate:down", "Paygate").alert
    assert alert.route == "team"
    assert alert.next_step_at == parse_instant("2027-11-26T17:00:00Z")


def test_a_production_down_run_ticket_opens_an_alert_and_closing_it_resolves(engineers) -> None:
    world, _, _ = engineers
    with time_machine.travel(parse_instant(NIGHT), tick=False):
        ticket = _ticket(world.alice, "Plus aucun paiement ne passe")
    alert = alerts.open_alert(alerts.ticket_key(ticket))
    assert alert is not None and alert.ticket == ticket and alert.source is AlertSource.TICKET
    assert alert.route == "oncall" and len(_pages(alert)) == 2
    tickets.close(ticket, world.alice)
    db.session.refresh(alert)
    assert alert.status is AlertStatus.RESOLVED


def test_a_test_environment_ticket_wakes_nobody(engineers) -> None:
    world, _, _ = engineers
    with time_machine.travel(parse_instant(NIGHT), tick=False):
        _ticket(world.alice, "Recette en panne", environment=Environment.INTEGRATION)
    assert db.session.scalar(select(func.count(Alert.id))) == 0


def test_an_agent_raising_a_ticket_to_p1_in_production_opens_the_alert(engineers) -> None:
    world, _, _ = engineers
    with time_machine.travel(parse_instant(DAY), tick=False):
        ticket = _ticket(world.alice, "Paiements lents", priority=Priority.P2)
        assert alerts.open_alert(alerts.ticket_key(ticket)) is None
        tickets.update_fields(
            ticket, world.agent, expected_version=ticket.version, priority=Priority.P1
        )
    assert alerts.open_alert(alerts.ticket_key(ticket)) is not None
    tickets.update_fields(
        ticket, world.agent, expected_version=ticket.version, status=Status.RESOLVED
    )
    assert alerts.open_alert(alerts.ticket_key(ticket)) is None


# --- delivery --------------------------------------------------------------------------------


def test_pages_are_delivered_over_http_and_smtp_and_recorded(engineers, http_sink, smtp) -> None:
    world, _, _ = engineers
    with time_machine.travel(parse_instant(NIGHT), tick=False):
        alert = alerts.raise_alert("paygate:down", "Paygate ne répond plus").alert
    with time_machine.travel(parse_instant(NIGHT) + timedelta(seconds=1), tick=False):
        assert outbox.deliver_due() == 2
    sms = http_sink.at("/sms")
    assert len(sms) == 1
    assert sms[0].headers["Authorization"] == "Bearer sms-token"
    assert sms[0].json["to"] == "+33600000001"
    assert "Paygate ne répond plus" in sms[0].json["text"]
    assert "http://support.test/alerts/act/" in sms[0].json["text"]
    assert [m["To"] for m in smtp.messages] == [world.agent.email]
    assert smtp.messages[0]["Auto-Submitted"] == "auto-generated"
    assert "Acquitter" in smtp.messages[0].get_content()  # the engineer's language: French
    assert _actions(alert).count("delivered") == 2
    with time_machine.travel(parse_instant(NIGHT) + timedelta(hours=1), tick=False):
        assert outbox.deliver_due() == 0  # never twice


def test_a_slow_provider_does_not_hold_back_the_other_pages(
    app, engineers, http_sink, smtp
) -> None:
    """The SMS provider takes 3 s to answer: the mail page leaves at once, not after it."""
    import threading
    import time

    world, _, _ = engineers
    http_sink.delays["/sms"] = 3.0
    with time_machine.travel(parse_instant(NIGHT), tick=False):
        alerts.raise_alert("paygate:down", "Paygate ne répond plus")
        delivered: list[int] = []

        def run() -> None:
            with app.app_context():
                delivered.append(notifications.deliver_due())

        worker = threading.Thread(target=run)
        worker.start()
        deadline = time.monotonic() + 2.0
        while not smtp.messages and time.monotonic() < deadline:
            time.sleep(0.02)
        assert [m["To"] for m in smtp.messages] == [world.agent.email]
        assert http_sink.at("/sms") == []  # still waiting on the provider
        worker.join(10)
    assert delivered == [2]
    assert len(http_sink.at("/sms")) == 1


def test_webhooks_are_signed(engineers, http_sink) -> None:
    _world, _agent3, _lead = engineers
    start = parse_instant(NIGHT)
    with time_machine.travel(start, tick=False):
        alert = alerts.raise_alert("paygate:down", "Paygate").alert
    for minutes in (10, 20):
        with time_machine.travel(start + timedelta(minutes=minutes), tick=False):
            alerts.escalate_due()
            notifications.deliver_due()
    hook = http_sink.at("/hook/lead")
    assert len(hook) == 1
    timestamp, signature = [
        part.split("=", 1)[1] for part in hook[0].headers["X-SupportIT-Signature"].split(",")
    ]
    expected = hmac.new(
        b"webhook-secret", f"{timestamp}.".encode() + hook[0].body, hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(signature, expected)
    assert hook[0].json["event"] == "alert.page"
    assert hook[0].json["alert"]["id"] == alert.id


def test_a_provider_error_is_retried_and_a_refusal_is_recorded(engineers, http_sink, smtp) -> None:
    http_sink.answers = [503]
    start = parse_instant(NIGHT)
    with time_machine.travel(start, tick=False):
        alert = alerts.raise_alert("paygate:down", "Paygate").alert
        notifications.deliver_due()
    sms = db.session.scalar(select(Notification).where(Notification.channel == "sms"))
    assert sms.status is NotificationStatus.PENDING and sms.attempts == 1
    assert http_sink.at("/sms") == []
    with time_machine.travel(start + timedelta(seconds=2), tick=False):
        assert notifications.deliver_due() == 0  # not yet: five seconds of backoff
    with time_machine.travel(start + timedelta(seconds=6), tick=False):
        assert notifications.deliver_due() == 1
    assert len(http_sink.at("/sms")) == 1
    assert "retrying" in _actions(alert)
    # A 400 is final: recorded in the timeline, not retried.
    http_sink.answers = [400]
    with time_machine.travel(start + timedelta(minutes=1), tick=False):
        alerts.resolve(alert, None)
        notifications.deliver_due()
    assert "delivery_failed" in _actions(alert)
    resolved_sms = db.session.scalar(
        select(Notification).where(Notification.channel == "sms", Notification.kind == "resolved")
    )
    assert resolved_sms.status is NotificationStatus.FAILED


# --- one-click links -------------------------------------------------------------------------


def test_a_signed_link_acknowledges_and_expires(engineers, client) -> None:
    world, _, _ = engineers
    with time_machine.travel(parse_instant(NIGHT), tick=False):
        alert = alerts.raise_alert("paygate:down", "Paygate").alert
        url = alerts.action_url(alert, world.agent, "ack")
        path = url.removeprefix("http://support.test")
        page = client.get(path)
        assert page.status_code == 200
        assert alert.status is AlertStatus.OPEN  # a GET changes nothing (mail link scanners)
        done = client.post(path)
        assert done.status_code == 200
    db.session.refresh(alert)
    assert alert.status is AlertStatus.ACKNOWLEDGED and alert.acknowledged_by == world.agent
    with time_machine.travel(parse_instant(NIGHT) + timedelta(hours=25), tick=False):
        expired = client.get(path)
    assert expired.status_code == 410
    tampered = client.get(path[:-3] + "abc")
    assert tampered.status_code == 404


# --- command line and pages ------------------------------------------------------------------


def test_cli_raise_dedup_ack_and_resolve(app, engineers) -> None:
    runner = app.test_cli_runner()
    with time_machine.travel(parse_instant(NIGHT), tick=False):
        first = runner.invoke(args=["alerts", "raise", "--key", "paygate:down", "--title", "KO"])
        again = runner.invoke(args=["alerts", "raise", "--key", "paygate:down", "--title", "KO"])
    assert first.exit_code == 0, first.output
    document = json.loads(first.output)
    assert document["created"] is True and document["route"] == "oncall"
    assert any(e["action"] == "notified" and e["channel"] == "sms" for e in document["timeline"])
    assert json.loads(again.output)["created"] is False
    assert json.loads(again.output)["occurrences"] == 2
    listed = runner.invoke(args=["alerts", "list", "--json"])
    assert [a["key"] for a in json.loads(listed.output)] == ["paygate:down"]
    assert runner.invoke(args=["alerts", "ack", str(document["id"])]).output.strip() == "acquittée"
    resolved = runner.invoke(args=["alerts", "resolve", str(document["id"])])
    assert resolved.output.strip() == "résolue"
    missing = runner.invoke(args=["alerts", "ack", "999"])
    assert missing.exit_code == 1 and "introuvable" in missing.output
    empty = runner.invoke(args=["alerts", "raise", "--key", " ", "--title", "KO"])
    assert empty.exit_code == 1 and "clé de dédoublonnage" in empty.output


def test_agents_see_the_alert_everywhere_and_acknowledge_it(client, engineers) -> None:
    world, _, _ = engineers
    with time_machine.travel(parse_instant(NIGHT), tick=False):
        alert = alerts.raise_alert("paygate:down", "Paygate ne répond plus").alert
    login(client, world.agent2)
    queue_page = client.get("/queue/").get_data(as_text=True)
    assert "Alerte non acquittée" in queue_page and "Paygate ne répond plus" in queue_page
    listing = client.get("/queue/alerts/").get_data(as_text=True)
    assert "paygate:down" in listing
    detail = client.get(f"/queue/alerts/{alert.id}").get_data(as_text=True)
    assert "Chronologie" in detail and "+33600000001" in detail
    client.post(f"/queue/alerts/{alert.id}/ack", follow_redirects=True)
    db.session.refresh(alert)
    assert alert.status is AlertStatus.ACKNOWLEDGED and alert.acknowledged_by == world.agent2
    assert "Alerte non acquittée" not in client.get("/queue/").get_data(as_text=True)
    # Merchants never see alerts.
    client.post("/logout")
    login(client, world.alice)
    assert client.get("/queue/alerts/").status_code == 404
    assert client.get(f"/queue/alerts/{alert.id}").status_code == 404


def test_the_on_call_page_says_who_and_where_alerts_go(client, engineers) -> None:
    world, agent3, _ = engineers
    with time_machine.travel(parse_instant(NIGHT), tick=True):
        login(client, world.agent)
        page = client.get("/queue/oncall").get_data(as_text=True)
    assert "Hors heures ouvrées" in page
    assert world.agent.name in page and agent3.name in page
    assert "Quatre prochaines semaines" in page


# --- urgent tickets from the merchant portal -------------------------------------------------


def _urgent_form(**extra: str) -> dict[str, str]:
    return {
        "category": "run",
        "subject": "Plus aucun paiement",
        "environment": "production",
        "priority": "P1",
        "body": "Tous les paiements sont refusés.",
        **extra,
    }


def test_off_hours_the_portal_asks_to_confirm_an_urgent_ticket(client, engineers) -> None:
    world, _, _ = engineers
    with time_machine.travel(parse_instant(NIGHT), tick=True):
        login(client, world.alice)
        form_page = client.get("/portal/tickets/new").get_data(as_text=True)
        assert "Seuls les problèmes urgents de production" in form_page
        refused = client.post("/portal/tickets/new", data=_urgent_form())
        assert refused.status_code == 200
        assert "Confirmez que la production est bloquée" in refused.get_data(as_text=True)
        assert db.session.scalar(select(func.count(Alert.id))) == 0
        client.post("/portal/tickets/new", data=_urgent_form(confirm_urgent="y"))
    alert = db.session.scalar(select(Alert))
    assert alert is not None and alert.route == "oncall"


def test_in_business_hours_no_confirmation_is_asked(client, engineers) -> None:
    world, _, _ = engineers
    with time_machine.travel(parse_instant(DAY), tick=True):
        login(client, world.alice)
        assert "off-hours" not in client.get("/portal/tickets/new").get_data(as_text=True)
        client.post("/portal/tickets/new", data=_urgent_form())
    assert db.session.scalar(select(Alert)).route == "team"


def test_urgent_tickets_beyond_the_daily_cap_page_nobody_and_show(client, engineers, app):
    world, _, _ = engineers
    app.config["URGENT_TICKETS_PER_DAY"] = 2
    start = parse_instant(NIGHT)
    for hour in range(3):
        with time_machine.travel(start + timedelta(hours=hour), tick=False):
            _ticket(world.alice, f"Incident {hour}")
    assert db.session.scalar(select(func.count(Alert.id))) == 2
    capped = db.session.scalar(select(tickets.Ticket).where(tickets.Ticket.subject == "Incident 2"))
    assert capped.flag.value == "urgent_capped"
    assert "urgent_capped" in [event.action for event in capped.events]
    # Agents see it in the queue, flagged.
    with time_machine.travel(start + timedelta(hours=3), tick=True):
        login(client, world.agent)
        queue_page = client.get("/queue/?view=all").get_data(as_text=True)
    assert "Urgent au-delà du plafond quotidien" in queue_page
    # Another merchant is not capped by Ma Literie's tickets.
    with time_machine.travel(start + timedelta(hours=3), tick=False):
        other = _ticket(world.bob, "Soleil en panne")
    assert other.flag is None and alerts.open_alert(alerts.ticket_key(other)) is not None


def test_a_merchant_marks_an_existing_production_ticket_urgent(client, engineers) -> None:
    world, _, _ = engineers
    with time_machine.travel(parse_instant(NIGHT), tick=True):
        ticket = _ticket(
            world.alice, "Paiements lents", category=Category.INTEGRATION, priority=Priority.P3
        )
        login(client, world.alice)
        page = client.get(f"/portal/tickets/{ticket.reference}").get_data(as_text=True)
        assert "mark-urgent" in page
        client.post(f"/portal/tickets/{ticket.reference}/urgent", data={})
        assert alerts.open_alert(alerts.ticket_key(ticket)) is None  # not confirmed
        client.post(f"/portal/tickets/{ticket.reference}/urgent", data={"confirm": "y"})
    db.session.refresh(ticket)
    assert ticket.priority is Priority.P1 and ticket.category is Category.RUN
    assert alerts.open_alert(alerts.ticket_key(ticket)).route == "oncall"
    # Bob cannot mark Alice's ticket urgent.
    with time_machine.travel(parse_instant(NIGHT), tick=False), pytest.raises(ServiceError):
        tickets.mark_urgent(ticket, world.bob)
