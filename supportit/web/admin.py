"""Administration: service levels, the team's calendar, on-call rotations and escalation.

Only administrators reach these pages; the services check it again, so a form posted by
someone else is refused there too.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from enum import Enum
from typing import TypeVar
from zoneinfo import ZoneInfo, available_timezones

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from supportit.db import db, utcnow
from supportit.i18n import gettext as _
from supportit.labels import AUDIT_ACTION_LABELS as AUDIT_ACTIONS
from supportit.labels import MONITOR_KIND_LABELS, WEEKDAY_LABELS
from supportit.models import (
    Article,
    Category,
    MaintenanceWindow,
    Merchant,
    Monitor,
    OnboardingTemplate,
    OnCallRotation,
    PaygateAccount,
    Priority,
    User,
)
from supportit.services import (
    alerts,
    audit,
    classification,
    kb,
    monitoring,
    onboarding,
    oncall,
    paygate,
    sla,
    vault,
)
from supportit.services import calendar as calendar_service
from supportit.services.errors import ServiceError
from supportit.web.access import admin_required
from supportit.web.forms import (
    ActionForm,
    ArticleForm,
    ClosedDayForm,
    ContactMethodsForm,
    EscalationForm,
    MaintenanceForm,
    MonitorForm,
    PaygateAccountForm,
    ProcessForm,
    RotationForm,
    SlaPolicyForm,
    report_service_error,
)

bp = Blueprint("admin", __name__, url_prefix="/admin")

E = TypeVar("E", bound=Enum)


@bp.route("/")
@admin_required
def index():
    return redirect(url_for("admin.sla_policies"))


# --- service levels ----------------------------------------------------------------------


def _member(enum_class: type[E], value: str | None) -> E | None:
    try:
        return enum_class(value)
    except ValueError:  # a hidden field someone edited
        return None


def _hours(minutes: int) -> Decimal:
    """Minutes as hours the way people write them: 1.5, 18 (not 1.50, nor 1.8E+1)."""
    hours = (Decimal(minutes) / 60).quantize(Decimal("0.01"))
    text = f"{hours:f}"
    return Decimal(text.rstrip("0").rstrip(".") if "." in text else text)


def _minutes(hours: Decimal) -> int:
    return int((hours * 60).to_integral_value())


@bp.route("/sla", methods=["GET", "POST"])
@admin_required
def sla_policies():
    failed: SlaPolicyForm | None = None
    if request.method == "POST":
        form = SlaPolicyForm()
        category = _member(Category, form.category.data) if form.validate() else None
        priority = _member(Priority, form.priority.data) if category else None
        if category is None or priority is None:
            failed = form
        else:
            target = sla.Target(
                _minutes(form.first_response_hours.data),
                _minutes(form.resolution_hours.data),
                wall_clock=form.wall_clock.data,
            )
            try:
                sla.set_policy(current_user, category, priority, target)
            except ServiceError as error:
                report_service_error(form, error)
                failed = form
            else:
                flash(
                    _(
                        "Service level for %(category)s %(priority)s saved: open tickets follow "
                        "it from now on.",
                        category=category.value,
                        priority=priority.value,
                    ),
                    "success",
                )
                return redirect(url_for("admin.sla_policies"))
    rows = []
    for category, priority, target, custom in sla.policy_table():
        form = SlaPolicyForm(
            formdata=None,
            category=category.value,
            priority=priority.value,
            first_response_hours=_hours(target.first_response_minutes),
            resolution_hours=_hours(target.resolution_minutes),
            wall_clock=target.wall_clock,
        )
        if (
            failed is not None
            and failed.category.data == category.value
            and failed.priority.data == priority.value
        ):
            form = failed  # the row that was refused keeps what was typed, with the reason
        rows.append((category, priority, custom, form))
    status = 400 if failed is not None else 200
    return render_template("admin/sla.html", rows=rows), status


# --- calendar --------------------------------------------------------------------------------


@bp.route("/calendar", methods=["GET", "POST"])
@admin_required
def calendar():
    year = request.args.get("year", type=int) or utcnow().year
    if not 2000 <= year <= 2100:
        abort(404)
    form = ClosedDayForm()
    status = 200
    if form.is_submitted():
        if form.validate():
            try:
                calendar_service.add_closed_day(form.day.data, form.reason.data, current_user)
            except ServiceError as error:
                report_service_error(form, error)
            else:
                flash(_("%(day)s is now a closed day.", day=form.day.data.isoformat()), "success")
                return redirect(url_for("admin.calendar", year=form.day.data.year))
        status = 400
    team = sla.team_calendar()
    closed = {day for day, _reason in calendar_service.closed_days(year)}
    return render_template(
        "admin/calendar.html",
        year=year,
        team=team,
        days=calendar_service.days_off(year),
        closed=closed,
        form=form,
        remove_form=ActionForm(),
    ), status


@bp.route("/calendar/<day>/remove", methods=["POST"])
@admin_required
def reopen_day(day: str):
    try:
        parsed = date.fromisoformat(day)
    except ValueError:
        abort(404)
    if ActionForm().validate_on_submit() and calendar_service.remove_closed_day(
        parsed, current_user
    ):
        flash(_("%(day)s is a working day again.", day=parsed.isoformat()), "success")
    return redirect(url_for("admin.calendar", year=parsed.year))


# --- on-call rotations -------------------------------------------------------------------


def _rotation_or_404(rotation_id: int) -> OnCallRotation:
    rotation = db.session.get(OnCallRotation, rotation_id)
    if rotation is None:
        abort(404)
    return rotation


@bp.route("/oncall")
@admin_required
def rotations():
    return render_template(
        "admin/oncall.html",
        rotations=oncall.rotations(),
        team=oncall.team(),
        contact_methods=oncall.contact_methods,
        delete_form=ActionForm(),
    )


@bp.route("/oncall/rotations/new", methods=["GET", "POST"])
@bp.route("/oncall/rotations/<int:rotation_id>", methods=["GET", "POST"])
@admin_required
def rotation(rotation_id: int | None = None):
    existing = _rotation_or_404(rotation_id) if rotation_id is not None else None
    form = RotationForm(obj=existing)
    if request.method == "GET":
        if existing is not None:
            form.members.data = "\n".join(m.user.email for m in existing.members)
        else:
            form.timezone.data = str(sla.team_calendar().zone)
            form.start_date.data = utcnow().date()
            form.handoff_time.data = oncall.DEFAULT_HANDOFF
    status = 200
    if form.is_submitted():
        if form.validate():
            try:
                saved = oncall.save_rotation(
                    form.name.data,
                    layer=form.layer.data,
                    members=form.member_emails(),
                    start_date=form.start_date.data,
                    handoff_time=form.handoff_time.data,
                    period_days=form.period_days.data,
                    timezone=form.timezone.data.strip(),
                    actor=current_user,
                    existing=existing,
                )
            except ServiceError as error:
                report_service_error(form, error)
            else:
                flash(_("Rotation %(name)s saved.", name=saved.name), "success")
                return redirect(url_for("admin.rotations"))
        status = 400
    return render_template(
        "admin/rotation.html",
        form=form,
        rotation=existing,
        agents=oncall.team(),
        zones=sorted(available_timezones()),
    ), status


@bp.route("/oncall/rotations/<int:rotation_id>/delete", methods=["POST"])
@admin_required
def delete_rotation(rotation_id: int):
    found = _rotation_or_404(rotation_id)
    if ActionForm().validate_on_submit():
        name = found.name
        oncall.delete_rotation(found, current_user)
        flash(_("Rotation %(name)s deleted.", name=name), "success")
    return redirect(url_for("admin.rotations"))


@bp.route("/contacts/<int:user_id>", methods=["GET", "POST"])
@admin_required
def contacts(user_id: int):
    user = db.session.get(User, user_id)
    if user is None or not user.is_staff:
        abort(404)
    return edit_contact_methods(user, back=url_for("admin.rotations"))


def edit_contact_methods(user: User, *, back: str):
    """The contact methods page, for an engineer's own or (admins) anyone's."""
    form = ContactMethodsForm()
    if request.method == "GET":
        for row, method in zip(form.methods, oncall.contact_methods(user), strict=False):
            row.kind.data = method.kind.value
            row.address.data = method.address
    status = 200
    if form.is_submitted():
        if form.validate():
            try:
                oncall.set_contact_methods(user, form.pairs(), actor=current_user)
            except ServiceError as error:
                report_service_error(form, error)  # no field of its name here: shown as a message
            else:
                flash(_("Contact methods of %(name)s saved.", name=user.name), "success")
                return redirect(back)
        status = 400
    return render_template("oncall/contacts.html", form=form, person=user, back=back), status


# --- escalation ------------------------------------------------------------------------------


@bp.route("/escalation", methods=["GET", "POST"])
@admin_required
def escalation():
    current = alerts.policy()
    form = EscalationForm()
    form.set_choices(oncall.layers(), oncall.team())
    if request.method == "GET":
        for row, step in zip(form.steps, current.steps, strict=False):
            row.notify.data = step["notify"]
            row.after_minutes.data = step["after_minutes"]
        form.repeats.data = current.repeats
        form.team_lead.data = current.team_lead.email if current.team_lead else ""
    status = 200
    if form.is_submitted():
        if form.validate():
            steps = [
                alerts.Step(row.notify.data, row.after_minutes.data or 0)
                for row in form.steps
                if row.notify.data
            ]
            try:
                alerts.save_policy(
                    current_user,
                    steps,
                    repeats=form.repeats.data,
                    team_lead=form.team_lead.data or None,
                )
            except ServiceError as error:
                db.session.rollback()
                flash(str(error.message), "danger")
            else:
                flash(
                    _("Escalation policy saved. Alerts already open keep the previous one."),
                    "success",
                )
                return redirect(url_for("admin.escalation"))
        status = 400
    return render_template("admin/escalation.html", form=form, policy=current), status


# --- Paygate accounts ----------------------------------------------------------------------


@bp.route("/paygate", methods=["GET", "POST"])
@bp.route("/paygate/<int:account_id>", methods=["GET", "POST"])
@admin_required
def paygate_accounts(account_id: int | None = None):
    account = None
    if account_id is not None:
        account = db.session.get(PaygateAccount, account_id)
        if account is None:
            abort(404)
    form = PaygateAccountForm()
    merchants = list(db.session.scalars(select(Merchant).order_by(Merchant.name)))
    form.merchant.choices = [SelectChoice(str(m.id), m.name) for m in merchants]
    if request.method == "GET" and account is not None:
        form.merchant.data = str(account.merchant_id)
        form.mid.data = account.mid
        form.environment.data = account.environment
    status = 200
    if form.is_submitted():
        if form.validate():
            try:
                saved = paygate.save_account(
                    current_user,
                    db.session.get(Merchant, int(form.merchant.data)),
                    form.mid.data,
                    form.environment.data,
                    form.blowfish_key.data or None,
                    form.hmac_key.data or None,
                    existing=account,
                )
            except ServiceError as error:
                report_service_error(form, error)
            except vault.VaultError:
                db.session.rollback()
                flash(
                    _(
                        "The stored keys cannot be opened with this instance's secret: type both "
                        "keys again."
                    ),
                    "danger",
                )
            else:
                flash(_("Paygate account %(mid)s saved.", mid=saved.mid), "success")
                return redirect(url_for("admin.paygate_accounts"))
        status = 400
    return render_template(
        "admin/paygate.html",
        form=form,
        account=account,
        accounts=paygate.accounts(),
        current_key_id=vault.current_key_id(),
        delete_form=ActionForm(),
    ), status


@bp.route("/paygate/<int:account_id>/delete", methods=["POST"])
@admin_required
def delete_paygate_account(account_id: int):
    account = db.session.get(PaygateAccount, account_id)
    if account is None:
        abort(404)
    if ActionForm().validate_on_submit():
        mid = account.mid
        paygate.delete_account(current_user, account)
        flash(_("Paygate account %(mid)s deleted.", mid=mid), "success")
    return redirect(url_for("admin.paygate_accounts"))


# --- monitors and maintenance ------------------------------------------------------------------


def _monitor_form_choices(form: MonitorForm) -> None:
    form.kind.choices = [SelectChoice(k.value, label) for k, label in MONITOR_KIND_LABELS.items()]
    form.service.choices = [SelectChoice(k, label) for k, label in monitoring.SERVICES.items()]
    form.merchant.choices = [SelectChoice("", _("None"))] + [
        SelectChoice(str(m.id), m.name)
        for m in db.session.scalars(select(Merchant).order_by(Merchant.name))
    ]


@bp.route("/monitors")
@admin_required
def monitors():
    return render_template(
        "admin/monitors.html",
        monitors=monitoring.all_monitors(),
        services=monitoring.SERVICES,
        action_form=ActionForm(),
    )


@bp.route("/monitors/new", methods=["GET", "POST"])
@bp.route("/monitors/<int:monitor_id>", methods=["GET", "POST"])
@admin_required
def monitor(monitor_id: int | None = None):
    existing = None
    if monitor_id is not None:
        existing = db.session.get(Monitor, monitor_id) or abort(404)
    form = MonitorForm(obj=existing) if request.method == "GET" and existing else MonitorForm()
    _monitor_form_choices(form)
    if request.method == "GET" and existing is not None:
        form.kind.data = existing.kind.value
        form.merchant.data = str(existing.merchant_id or "")
        form.settings.data = json.dumps(existing.settings, ensure_ascii=False, indent=2)
    status = 200
    if form.is_submitted():
        if form.validate():
            data = monitoring.MonitorInput(
                name=form.name.data,
                kind=form.kind.data,
                service=form.service.data,
                target=form.target.data or "",
                interval_seconds=form.interval_seconds.data,
                failures_to_open=form.failures_to_open.data,
                successes_to_close=form.successes_to_close.data,
                failure_ratio=float(form.failure_ratio.data or 0),
                window=form.window.data,
                merchant_id=int(form.merchant.data) if form.merchant.data else None,
                settings=getattr(form.settings, "parsed", {}),
                paused=form.paused.data,
            )
            try:
                saved = monitoring.save_monitor(current_user, data, existing)
            except ServiceError as error:
                report_service_error(form, error)
            else:
                flash(_("Monitor %(name)s saved.", name=saved.name), "success")
                return redirect(url_for("admin.monitors"))
        status = 400
    return render_template("admin/monitor.html", form=form, monitor=existing), status


@bp.route("/monitors/<int:monitor_id>/<any(pause, resume, delete):change>", methods=["POST"])
@admin_required
def monitor_action(monitor_id: int, change: str):
    found = db.session.get(Monitor, monitor_id) or abort(404)
    if ActionForm().validate_on_submit():
        name = found.name
        if change == "delete":
            monitoring.delete_monitor(current_user, found)
            flash(_("Monitor %(name)s deleted.", name=name), "success")
        else:
            monitoring.set_paused(current_user, found, change == "pause")
            flash(
                _("Monitor %(name)s paused.", name=name)
                if change == "pause"
                else _("Monitor %(name)s resumed.", name=name),
                "success",
            )
    return redirect(url_for("admin.monitors"))


@bp.route("/maintenance", methods=["GET", "POST"])
@admin_required
def maintenance():
    form = MaintenanceForm()
    form.monitor.choices = [SelectChoice("", _("Every monitor"))] + [
        SelectChoice(str(m.id), m.name) for m in monitoring.all_monitors()
    ]
    form.weekday.choices = [SelectChoice(str(i), day) for i, day in enumerate(WEEKDAY_LABELS)]
    status = 200
    if form.is_submitted():
        if form.validate():
            zone = ZoneInfo(current_app.config["CALENDAR_TIMEZONE"])
            target = db.session.get(Monitor, int(form.monitor.data)) if form.monitor.data else None
            try:
                if form.recurrence.data == "once":
                    if form.starts_at.data is None or form.ends_at.data is None:
                        raise ServiceError(_("Give the start and the end."), field="ends_at")
                    monitoring.save_maintenance(
                        current_user,
                        monitor=target,
                        reason=form.reason.data or "",
                        starts_at=calendar_service.local_instant(
                            form.starts_at.data, zone, field="starts_at"
                        ),
                        ends_at=calendar_service.local_instant(
                            form.ends_at.data, zone, field="ends_at"
                        ),
                    )
                else:
                    monitoring.save_maintenance(
                        current_user,
                        monitor=target,
                        reason=form.reason.data or "",
                        weekday=int(form.weekday.data),
                        start_time=form.start_time.data,
                        duration_minutes=form.duration_minutes.data,
                        timezone=zone.key,
                    )
            except ServiceError as error:
                report_service_error(form, error)
            else:
                flash(_("Maintenance window saved."), "success")
                return redirect(url_for("admin.maintenance"))
        status = 400
    return render_template(
        "admin/maintenance.html",
        form=form,
        windows=monitoring.maintenance_windows(),
        weekdays=WEEKDAY_LABELS,
        action_form=ActionForm(),
    ), status


@bp.route("/maintenance/<int:window_id>/delete", methods=["POST"])
@admin_required
def delete_maintenance(window_id: int):
    window = db.session.get(MaintenanceWindow, window_id) or abort(404)
    if ActionForm().validate_on_submit():
        monitoring.delete_maintenance(current_user, window)
        flash(_("Maintenance window deleted."), "success")
    return redirect(url_for("admin.maintenance"))


# --- onboarding processes ----------------------------------------------------------------------


@bp.route("/processes", methods=["GET", "POST"])
@bp.route("/processes/<int:template_id>", methods=["GET", "POST"])
@admin_required
def processes(template_id: int | None = None):
    templates = onboarding.templates()
    current = None
    if template_id is not None:
        current = db.session.get(OnboardingTemplate, template_id) or abort(404)
    form = ProcessForm()
    if request.method == "GET" and current is not None:
        form.name.data = current.name
        form.description.data = current.description
        form.steps.data = onboarding.steps_text(current)
    status = 200
    if form.is_submitted():
        if form.validate():
            try:
                saved = onboarding.save_template(
                    current_user,
                    form.name.data,
                    form.description.data or "",
                    form.steps.data,
                    existing=current,
                )
            except ServiceError as error:
                report_service_error(form, error)
            else:
                flash(_("Process %(name)s saved.", name=saved.name), "success")
                return redirect(url_for("admin.processes", template_id=saved.id))
        status = 400
    return render_template(
        "admin/processes.html",
        form=form,
        templates=templates,
        current=current,
        teams=onboarding.TEAMS,
    ), status


@bp.route("/kb")
@admin_required
def kb_list():
    query = (request.args.get("q") or "").strip()[:200]
    if query:
        articles = kb.search(query, limit=50, published_only=False)
    else:
        articles = list(
            db.session.scalars(select(Article).order_by(Article.category, Article.slug))
        )
    return render_template("admin/kb.html", articles=articles, query=query)


@bp.route("/kb/new", methods=["GET", "POST"])
@bp.route("/kb/<int:article_id>", methods=["GET", "POST"])
@admin_required
def kb_edit(article_id: int | None = None):
    article = None
    if article_id is not None:
        article = db.session.get(Article, article_id) or abort(404)
    # The article fills the form when it is shown; on a post only what was sent counts.
    form = ArticleForm(obj=article if request.method == "GET" else None)
    if request.method == "GET" and article is not None:
        form.tags.data = ", ".join(article.tags)
        form.doc_links.data = "\n".join(
            f"{link['url']} {link.get('title', '')}".strip() for link in article.doc_links
        )
    status = 200
    if form.is_submitted():
        if form.validate():
            data = kb.ArticleData(
                slug=form.slug.data.strip(),
                category=form.category.data,
                title_fr=form.title_fr.data,
                title_en=form.title_en.data,
                summary_fr=(form.summary_fr.data or "").strip(),
                summary_en=(form.summary_en.data or "").strip(),
                body_fr=form.body_fr.data or "",
                body_en=form.body_en.data or "",
                tags=(form.tags.data or "").split(","),
                doc_links=kb.parse_doc_links(form.doc_links.data or ""),
                reviewed_on=form.reviewed_on.data,
                published=form.published.data,
            )
            try:
                saved = kb.save(article, data, current_user)
            except ServiceError as error:
                report_service_error(form, error)
            else:
                flash(_("Article saved. Export it to keep the change in kb/."), "success")
                return redirect(url_for("admin.kb_edit", article_id=saved.id))
        status = 400
    return render_template("admin/kb_edit.html", form=form, article=article), status


@bp.route("/kb/<int:article_id>/export")
@admin_required
def kb_export(article_id: int):
    """The article as its kb/ Markdown file, to commit an edit made here."""
    article = db.session.get(Article, article_id) or abort(404)
    response = make_response(kb.to_markdown(article))
    response.headers["Content-Type"] = "text/markdown; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{article.slug}.md"'
    return response


@bp.route("/classifier")
@admin_required
def classifier():
    return render_template(
        "admin/classifier.html",
        models=classification.models(),
        current=classification.current(),
        examples=len(classification.confirmed_examples()),
        action_form=ActionForm(),
    )


@bp.route("/classifier/train", methods=["POST"])
@admin_required
def classifier_train():
    """Retrain now (a few seconds), as `supportit classify train` does."""
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        trained = classification.train(actor=current_user)
    except ServiceError as error:
        flash(str(error.message), "danger")
    else:
        flash(
            _(
                "Version %(version)d trained and in use: "
                "%(accuracy)s accuracy on held-out tickets.",
                version=trained.model.version,
                accuracy=f"{trained.evaluation.accuracy:.0%}",
            ),
            "success",
        )
    return redirect(url_for("admin.classifier"))


@bp.route("/classifier/<int:version>/activate", methods=["POST"])
@admin_required
def classifier_activate(version: int):
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        classification.activate(version, current_user)
    except ServiceError as error:
        flash(str(error.message), "danger")
    else:
        flash(_("Version %(version)d in use.", version=version), "success")
    return redirect(url_for("admin.classifier"))


@bp.route("/audit")
@admin_required
def audit_log():
    action = request.args.get("action") or None
    return render_template(
        "admin/audit.html",
        events=audit.recent(300, action),
        action=action,
        actions=AUDIT_ACTIONS,
    )
