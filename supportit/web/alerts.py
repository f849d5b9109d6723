"""Alerts for agents (list, timeline, acknowledge, resolve) and the one-click links in pages."""

from __future__ import annotations

from contextlib import nullcontext
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import force_locale
from flask_login import current_user

from supportit.db import db, utcnow
from supportit.i18n import LANGUAGES
from supportit.i18n import gettext as _
from supportit.models import Alert, OnCallOverride
from supportit.services import alerts, calendar
from supportit.services import oncall as oncall_service
from supportit.services.errors import ServiceError
from supportit.web.access import staff_required
from supportit.web.forms import ActionForm, OverrideForm, report_service_error

bp = Blueprint("alerts", __name__)


def _alert_or_404(alert_id: int) -> Alert:
    alert = db.session.get(Alert, alert_id)
    if alert is None:
        abort(404)
    return alert


@bp.route("/queue/alerts/")
@staff_required
def index():
    return render_template(
        "alerts/index.html", active=alerts.active(), recent=alerts.recent(), form=ActionForm()
    )


@bp.route("/queue/alerts/<int:alert_id>")
@staff_required
def show(alert_id: int):
    return render_template("alerts/show.html", alert=_alert_or_404(alert_id), form=ActionForm())


@bp.route("/queue/alerts/<int:alert_id>/<any(ack, resolve):action>", methods=["POST"])
@staff_required
def act(alert_id: int, action: str):
    alert = _alert_or_404(alert_id)
    if ActionForm().validate_on_submit():
        _do(alert, action, current_user, via="web")
    return redirect(url_for("alerts.show", alert_id=alert.id))


def _do(alert: Alert, action: str, user, *, via: str) -> None:  # type: ignore[no-untyped-def]
    try:
        if action == "ack":
            changed = alerts.acknowledge(alert, user, via=via)
            if changed:
                flash(_("Alert acknowledged: escalation stopped."), "success")
            else:
                flash(_("This alert was already acknowledged."), "info")
        else:
            changed = alerts.resolve(alert, user, via=via)
            if changed:
                flash(_("Alert resolved: whoever was paged is told."), "success")
            else:
                flash(_("This alert was already resolved."), "info")
    except ServiceError as error:
        db.session.rollback()
        flash(str(error.message), "warning")


@bp.route("/alerts/act/<token>", methods=["GET", "POST"])
def link(token: str):
    """A link from a page: GET shows what it will do, the button does it.

    A GET never changes anything: mail security scanners open every link they see, and an
    alert acknowledged by a scanner would stop the escalation with nobody awake.
    """
    try:
        found = alerts.read_link(token)
    except ServiceError as error:
        code = 410 if isinstance(error, alerts.LinkExpired) else 404
        title = _("Link expired") if code == 410 else _("Link not valid")
        page = render_template("errors/error.html", code=code, title=title, message=error.message)
        return page, code
    form = ActionForm()
    # The page speaks the language of the engineer the link was made for.
    language = found.user.language if found.user and found.user.language in LANGUAGES else None
    with force_locale(language) if language else nullcontext():
        if form.validate_on_submit():
            _do(found.alert, found.action, found.user, via="link")
        return render_template("alerts/link.html", found=found, form=form)


@bp.route("/queue/oncall", methods=["GET", "POST"])
@staff_required
def oncall():
    """Who is on call now and over the next four weeks, where an alert would go now, and the
    overrides: any agent records a swap or a cover (POST)."""
    now = utcnow()
    form = OverrideForm()
    form.set_choices(oncall_service.rotations(), oncall_service.team())
    status = 200
    if form.is_submitted():
        if form.validate():
            try:
                rotation = oncall_service.rotation_named(form.rotation.data)
                zone = ZoneInfo(rotation.timezone)
                oncall_service.add_override(
                    rotation,
                    form.user.data,
                    calendar.local_instant(form.starts_at.data, zone, field="starts_at"),
                    calendar.local_instant(form.ends_at.data, zone, field="ends_at"),
                    reason=form.reason.data or "",
                    actor=current_user,
                )
            except ServiceError as error:
                report_service_error(form, error)
            else:
                flash(_("Override recorded."), "success")
                return redirect(url_for("alerts.oncall"))
        status = 400
    return render_template(
        "alerts/oncall.html",
        now=now,
        route=oncall_service.route(now),
        current=oncall_service.schedule(now),
        ahead=oncall_service.schedule(now, weeks=4),
        overrides=oncall_service.upcoming_overrides(now),
        contact_methods=oncall_service.contact_methods,
        form=form,
        remove_form=ActionForm(),
    ), status


@bp.route("/queue/oncall/overrides/<int:override_id>/remove", methods=["POST"])
@staff_required
def remove_override(override_id: int):
    override = db.session.get(OnCallOverride, override_id)
    if override is None:
        abort(404)
    if ActionForm().validate_on_submit():
        oncall_service.remove_override(override, current_user)
        flash(_("Override removed."), "success")
    return redirect(url_for("alerts.oncall"))


@bp.route("/queue/oncall/contacts", methods=["GET", "POST"])
@staff_required
def my_contacts():
    """How I am paged: kept up to date by the engineers themselves."""
    from supportit.web.admin import edit_contact_methods

    return edit_contact_methods(current_user, back=url_for("alerts.oncall"))
