"""Onboarding pages: the agents' board and an onboarding's page; the merchant's progress."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from supportit.db import db
from supportit.extensions import csrf
from supportit.i18n import gettext as _
from supportit.models import (
    Merchant,
    Onboarding,
    OnboardingStep,
    OnboardingTemplate,
    RecetteCheck,
    RecetteStatus,
    StepEvidence,
    StepStatus,
)
from supportit.services import jira_sync
from supportit.services import onboarding as service
from supportit.services.attachments import Upload
from supportit.services.errors import ServiceError
from supportit.web.access import merchant_required, staff_required
from supportit.web.files import send_stored
from supportit.web.forms import ActionForm

bp = Blueprint("onboarding", __name__)


def _get(onboarding_id: int) -> Onboarding:
    return db.session.get(Onboarding, onboarding_id) or abort(404)


@bp.route("/queue/onboardings/")
@staff_required
def board():
    return render_template(
        "onboarding/board.html",
        onboardings=service.board(),
        live=service.recently_live(),
        current_step=service.current_step,
        is_late=service.is_late,
        merchants=list(db.session.scalars(select(Merchant).order_by(Merchant.name))),
        templates=service.templates(),
        action_form=ActionForm(),
        today=date.today(),
    )


@bp.route("/queue/onboardings/new", methods=["POST"])
@staff_required
def start():
    if not ActionForm().validate_on_submit():
        abort(400)
    merchant = db.session.get(Merchant, request.form.get("merchant", type=int) or 0)
    template = db.session.get(OnboardingTemplate, request.form.get("template", type=int) or 0)
    if merchant is None or template is None:
        flash(_("Choose a merchant and a process."), "danger")
        return redirect(url_for("onboarding.board"))
    try:
        signed = date.fromisoformat(request.form.get("signed_on") or date.today().isoformat())
        started = service.start(
            merchant,
            current_user,
            products=request.form.getlist("products"),
            signed_on=signed,
            template=template,
            salesforce_account_id=request.form.get("salesforce_account_id"),
            salesforce_url=request.form.get("salesforce_url"),
        )
    except ValueError:
        flash(_("The signature date is not a date."), "danger")
        return redirect(url_for("onboarding.board"))
    except ServiceError as error:
        db.session.rollback()
        flash(str(error.message), "danger")
        return redirect(url_for("onboarding.board"))
    flash(_("Onboarding of %(name)s started.", name=merchant.name), "success")
    return redirect(url_for("onboarding.show", onboarding_id=started.id))


@bp.route("/queue/onboardings/<int:onboarding_id>")
@staff_required
def show(onboarding_id: int):
    onboarding = _get(onboarding_id)
    service.tick_from_notifications(onboarding)
    return render_template(
        "onboarding/show.html",
        onboarding=onboarding,
        current=service.current_step(onboarding),
        missing=service.missing_for_go_live(onboarding),
        items=service.RECETTE_ITEMS,
        teams=service.SIGN_OFF_TEAMS,
        statuses=list(StepStatus),
        action_form=ActionForm(),
        jira=jira_sync.link_for_onboarding(onboarding),
    )


def _back(onboarding: Onboarding, anchor: str = ""):  # type: ignore[no-untyped-def]
    return redirect(url_for("onboarding.show", onboarding_id=onboarding.id) + anchor)


@bp.route("/queue/onboardings/steps/<int:step_id>", methods=["POST"])
@staff_required
def move(step_id: int):
    step = db.session.get(OnboardingStep, step_id) or abort(404)
    onboarding = step.onboarding
    if not ActionForm().validate_on_submit():
        abort(400)
    sent = request.files.get("file")
    upload = Upload(sent.filename, sent.read()) if sent and sent.filename else None
    try:
        if request.form.get("note") or request.form.get("reference") or upload:
            service.add_evidence(
                step,
                current_user,
                request.form.get("note", ""),
                request.form.get("reference"),
                upload,
            )
        if request.form.get("status"):
            try:
                status = StepStatus(request.form["status"])
            except ValueError:
                abort(400)
            service.move_step(
                step,
                current_user,
                status,
                reason=request.form.get("reason"),
                expected_version=request.form.get("version", type=int),
            )
    except ServiceError as error:
        flash(str(error.message), "danger")
    return _back(onboarding, f"#step-{step_id}")


@bp.route("/queue/onboardings/evidence/<int:evidence_id>/file")
@staff_required
def evidence_file(evidence_id: int):
    evidence = db.session.get(StepEvidence, evidence_id)
    if evidence is None or evidence.sha256 is None:
        abort(404)
    return send_stored(
        evidence.sha256,
        evidence.content_type or "application/octet-stream",
        evidence.filename or "evidence",
    )


@bp.route("/queue/onboardings/checks/<int:check_id>", methods=["POST"])
@staff_required
def check(check_id: int):
    found = db.session.get(RecetteCheck, check_id) or abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        status = RecetteStatus(request.form.get("status", ""))
    except ValueError:
        abort(400)
    service.set_check(
        found, current_user, status, request.form.get("reference"), request.form.get("evidence", "")
    )
    return _back(found.onboarding, "#recette")


@bp.route("/queue/onboardings/<int:onboarding_id>/sign/<team>", methods=["POST"])
@staff_required
def sign(onboarding_id: int, team: str):
    onboarding = _get(onboarding_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        service.sign(onboarding, team, current_user, request.form.get("note", ""))
    except ServiceError as error:
        flash(str(error.message), "danger")
    return _back(onboarding, "#sign-offs")


@bp.route("/jira/webhook", methods=["POST"])
@csrf.exempt  # Jira cannot send our CSRF token; the shared secret authenticates the call
def jira_webhook():
    secret = request.headers.get("X-SupportIT-Secret") or request.args.get("secret")
    payload = request.get_json(silent=True)
    try:
        told = jira_sync.webhook(payload if isinstance(payload, dict) else {}, secret)
    except PermissionError:
        return {"error": "bad or missing shared secret"}, 403
    except ValueError as error:
        return {"error": str(error)}, 400
    return {"told": told}, 200


@bp.route("/portal/onboarding")
@merchant_required
def mine():
    onboarding = service.active_for(current_user.merchant)
    return render_template(
        "onboarding/mine.html",
        onboarding=onboarding,
        current=service.current_step(onboarding) if onboarding else None,
        items=service.RECETTE_ITEMS,
    )
