"""What people see of supervision: agents' pages, admins' monitors, merchants' banner and the
public status page."""

from __future__ import annotations

import html
from datetime import timedelta

from sqlalchemy import select

from supportit.db import db, utcnow
from supportit.models import (
    Category,
    CheckStatus,
    Incident,
    IncidentEvent,
    IncidentStatus,
    MaintenanceWindow,
    Monitor,
)
from supportit.services import monitoring, tickets
from supportit.services.tickets import NewTicket
from tests.conftest import login


def _monitor(name: str = "Paygate capture.aspx", service: str = "capture", **kw) -> Monitor:
    return monitoring.save_monitor(
        None,
        monitoring.MonitorInput(
            name=name,
            kind=kw.pop("kind", "http"),
            service=service,
            target=kw.pop("target", "http://127.0.0.1:9/capture.aspx"),
            **kw,
        ),
    )


def _incident(monitor: Monitor, open_: bool = True) -> Incident:
    start = utcnow() - timedelta(minutes=20)
    incident = Incident(
        monitor_id=monitor.id,
        title=monitor.name,
        worst=CheckStatus.DOWN,
        opened_at=start,
        status=IncidentStatus.OPEN if open_ else IncidentStatus.RESOLVED,
        resolved_at=None if open_ else start + timedelta(minutes=10),
        events=[IncidentEvent(kind="opened", at=start, detail="HTTP 500, expected 200")],
    )
    db.session.add(incident)
    db.session.commit()
    return incident


def _text(response) -> str:  # type: ignore[no-untyped-def]
    return html.unescape(response.get_data(as_text=True))


def test_agents_see_monitors_incidents_and_the_timeline(client, world) -> None:
    monitor = _monitor()
    incident = _incident(monitor)
    login(client, world.agent)
    page = _text(client.get("/queue/supervision/"))
    assert "Paygate capture.aspx" in page and "Incidents en cours" in page
    detail = _text(client.get(f"/queue/supervision/{monitor.id}"))
    assert "Disponibilité 24 h" in detail and "Vérifier maintenant" in detail
    checked = client.post(f"/queue/supervision/{monitor.id}/check", follow_redirects=True)
    assert "Vérifié : down" in _text(checked)  # nothing listens on port 9
    timeline = _text(client.get(f"/queue/incidents/{incident.id}"))
    assert "HTTP 500, expected 200" in timeline
    ticket = tickets.open_ticket(
        world.literie,
        world.alice,
        NewTicket(category=Category.INTEGRATION, subject="Capture en échec", body="Code 22060200"),
    )
    linked = client.post(
        f"/queue/incidents/{incident.id}",
        data={"reference": ticket.reference},
        follow_redirects=True,
    )
    assert f"Ticket {ticket.reference} lié à l'incident." in _text(linked)
    assert incident.tickets == [ticket]


def test_merchants_see_a_banner_and_their_run_ticket_is_linked(client, world) -> None:
    monitor = _monitor()
    incident = _incident(monitor)
    silence = _monitor(
        "Silence Ma Literie",
        "notifications",
        kind="silence",
        target="",
        merchant_id=world.literie.id,
    )
    _incident(silence)  # one merchant's silence is not public
    login(client, world.bob)
    portal = _text(client.get("/portal/"))
    assert "Incident en cours" in portal and "Capture (capture.aspx)" in portal
    assert "Silence" not in portal
    form = _text(client.get("/portal/tickets/new"))
    assert "Un incident est en cours sur Capture (capture.aspx)" in form
    ticket = tickets.open_ticket(
        world.soleil,
        world.bob,
        NewTicket(
            category=Category.RUN, subject="Captures refusées", body="Toutes nos captures échouent"
        ),
    )
    assert ticket in incident.tickets
    assert any(e.kind == "ticket" for e in incident.events)
    incident.status = IncidentStatus.RESOLVED
    db.session.commit()
    assert "Incident en cours" not in _text(client.get("/portal/"))


def test_public_status_page_without_login(client, world) -> None:
    monitor = _monitor()
    _incident(monitor, open_=False)
    _monitor(
        "Silence Ma Literie",
        "notifications",
        kind="silence",
        target="",
        merchant_id=world.literie.id,
    )
    page = _text(client.get("/status"))
    assert "État des services FLOA Pay" in page
    assert "Capture (capture.aspx)" in page and "Incidents passés" in page
    assert "Tous les services FLOA Pay fonctionnent normalement." in page
    assert "Ma Literie" not in page  # nothing about any merchant
    _incident(monitor)
    assert "Incident en cours" in _text(client.get("/status"))
    english = _text(client.get("/status", headers={"Accept-Language": "en"}))
    assert "FLOA Pay service status" in english and "Past incidents" in english


def test_supervision_is_for_staff(client, world) -> None:
    monitor = _monitor()
    login(client, world.alice)
    assert client.get("/queue/supervision/").status_code == 404
    assert client.get(f"/queue/supervision/{monitor.id}").status_code == 404


def test_admins_manage_monitors_and_maintenance(app, client, world) -> None:
    login(client, world.admin)
    created = client.post(
        "/admin/monitors/new",
        data={
            "name": "Paygate floapay.aspx",
            "kind": "http",
            "service": "payment",
            "target": "http://127.0.0.1:5080/floapay.aspx",
            "merchant": "",
            "interval_seconds": 30,
            "failures_to_open": 3,
            "successes_to_close": 2,
            "failure_ratio": "0",
            "window": 10,
            "settings": '{"expected_text": "Paygate", "timeout": 5}',
        },
    )
    assert created.status_code == 302
    monitor = db.session.scalar(select(Monitor).where(Monitor.name == "Paygate floapay.aspx"))
    assert monitor.settings == {"expected_text": "Paygate", "timeout": 5}
    bad = client.post(
        f"/admin/monitors/{monitor.id}",
        data={
            "name": "Paygate floapay.aspx",
            "kind": "http",
            "service": "payment",
            "target": "x",
            "merchant": "",
            "interval_seconds": 5,
            "failures_to_open": 3,
            "successes_to_close": 2,
            "failure_ratio": "0",
            "window": 10,
            "settings": "{not json",
        },
    )
    page = _text(bad)
    assert bad.status_code == 400 and "JSON invalide" in page
    assert client.post(f"/admin/monitors/{monitor.id}/pause").status_code == 302
    assert monitor.paused
    window = client.post(
        "/admin/maintenance",
        data={
            "monitor": str(monitor.id),
            "reason": "Mise à jour Paygate",
            "recurrence": "weekly",
            "weekday": "6",
            "start_time": "23:00",
            "duration_minutes": 120,
        },
    )
    assert window.status_code == 302
    saved = db.session.scalar(select(MaintenanceWindow))
    assert (saved.weekday, saved.duration_minutes) == (6, 120)
    refused = client.post(
        "/admin/maintenance",
        data={
            "monitor": "",
            "recurrence": "once",
            "starts_at": "2026-12-01T10:00",
            "ends_at": "2026-12-01T09:00",
            "weekday": "6",
        },
    )
    assert refused.status_code == 400 and "doit finir après son début" in _text(refused)
    assert client.post(f"/admin/monitors/{monitor.id}/delete").status_code == 302
    assert db.session.get(Monitor, monitor.id) is None
    agent = app.test_client()
    login(agent, world.agent)
    assert agent.get("/admin/monitors").status_code == 403
