"""Supervision for agents (monitors, incidents) and the public status page for merchants."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select

from supportit.db import db, utcnow
from supportit.i18n import gettext as _
from supportit.models import Incident, IncidentStatus, Monitor, MonitorKind, MonitorResult
from supportit.services import monitoring, tickets
from supportit.web.access import staff_required
from supportit.web.forms import ActionForm, AttachMailForm

bp = Blueprint("supervision", __name__)


@bp.route("/queue/supervision/")
@staff_required
def index():
    now = utcnow()
    monitors = monitoring.all_monitors()
    return render_template(
        "supervision/index.html",
        monitors=monitors,
        stats={m.id: monitoring.stats(m, now) for m in monitors},
        charts={m.id: monitoring.last_day(m, now, minutes=30) for m in monitors},
        open_incidents=[i for i in monitoring.recent_incidents(100) if i.status.value == "open"],
        incidents=monitoring.recent_incidents(30),
        services=monitoring.SERVICES,
    )


@bp.route("/queue/supervision/<int:monitor_id>")
@staff_required
def monitor(monitor_id: int):
    found = db.session.get(Monitor, monitor_id) or abort(404)
    now = utcnow()
    results = db.session.scalars(
        select(MonitorResult)
        .where(MonitorResult.monitor_id == found.id)
        .order_by(MonitorResult.checked_at.desc(), MonitorResult.id.desc())
        .limit(50)
    ).all()
    incidents = db.session.scalars(
        select(Incident)
        .where(Incident.monitor_id == found.id)
        .order_by(Incident.opened_at.desc())
        .limit(20)
    ).all()
    return render_template(
        "supervision/monitor.html",
        monitor=found,
        stats=monitoring.stats(found, now),
        chart=monitoring.last_day(found, now),
        results=results,
        incidents=incidents,
        in_maintenance=monitoring.in_maintenance(found, now),
        action_form=ActionForm(),
        services=monitoring.SERVICES,
    )


@bp.route("/queue/supervision/<int:monitor_id>/check", methods=["POST"])
@staff_required
def check(monitor_id: int):
    found = db.session.get(Monitor, monitor_id) or abort(404)
    if ActionForm().validate_on_submit():
        result = monitoring.check_now(found)
        flash(
            _("Checked: %(status)s. %(detail)s", status=result.status.value, detail=result.detail),
            "info",
        )
    return redirect(url_for("supervision.monitor", monitor_id=found.id))


@bp.route("/queue/incidents/<int:incident_id>", methods=["GET", "POST"])
@staff_required
def incident(incident_id: int):
    found = db.session.get(Incident, incident_id) or abort(404)
    form = AttachMailForm()
    if form.validate_on_submit():
        ticket = tickets.by_reference(form.reference.data)
        if ticket is None:
            form.reference.errors = [_("No ticket has this reference.")]
        else:
            monitoring.link_ticket(found, ticket, current_user)
            flash(
                _("Ticket %(reference)s linked to the incident.", reference=ticket.reference),
                "success",
            )
            return redirect(url_for("supervision.incident", incident_id=found.id))
    return render_template(
        "supervision/incident.html", incident=found, form=form, services=monitoring.SERVICES
    )


# --- the public status page ----------------------------------------------------------------


@bp.route("/status")
def status():
    """Public: no login, no merchant's data, only FLOA Pay's services and their incidents."""
    now = utcnow()
    public = [
        m
        for m in monitoring.all_monitors()
        if m.kind is not MonitorKind.SILENCE and not m.settings.get("private")
    ]
    services = []
    for key, label in monitoring.SERVICES.items():
        members = [m for m in public if m.service == key]
        if not members:
            continue
        open_now = [i for i in monitoring.public_open_incidents() if i.monitor.service == key]
        days = monitoring.daily_uptime([m.id for m in members], 90, now)
        known = [d.uptime for d in days if d.uptime is not None]
        services.append(
            {
                "key": key,
                "label": label,
                "down": any(i.worst.value == "down" for i in open_now),
                "degraded": bool(open_now),
                "days": days,
                "uptime": monitoring.uptime_of(members, now - timedelta(days=90), now)
                if known
                else None,
            }
        )
    past = db.session.scalars(
        select(Incident)
        .join(Monitor)
        .where(
            Incident.opened_at >= now - timedelta(days=90),
            Monitor.kind != MonitorKind.SILENCE,
        )
        .order_by(Incident.opened_at.desc())
        .limit(50)
    ).all()
    past = [i for i in past if not i.monitor.settings.get("private")]
    ongoing = [i for i in past if i.status is IncidentStatus.OPEN]
    return render_template(
        "supervision/status.html",
        services=services,
        incidents=past,
        ongoing=ongoing,
        labels_by_service=monitoring.SERVICES,
        now=now,
    )
