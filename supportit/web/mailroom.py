"""The agents' view of mail that intake could not file: quarantine and its three ways out."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from supportit.db import db
from supportit.i18n import gettext as _
from supportit.intake import pipeline, quarantine
from supportit.models import InboundMail
from supportit.services.errors import ServiceError
from supportit.web.access import get_ticket_for, staff_required
from supportit.web.forms import ActionForm, AttachMailForm

bp = Blueprint("mailroom", __name__, url_prefix="/queue/mail")


def _mail_or_404(mail_id: int) -> InboundMail:
    record = db.session.get(InboundMail, mail_id)
    if record is None:
        abort(404)
    return record


def _attempt(action, *args):  # type: ignore[no-untyped-def]
    """Run a quarantine action; a refusal is shown as a warning and leaves nothing half done."""
    try:
        return action(*args)
    except ServiceError as error:
        db.session.rollback()
        flash(str(error.message), "warning")
        return None


@bp.route("/")
@staff_required
def index():
    return render_template(
        "queue/quarantine.html",
        mails=quarantine.quarantined(),
        action_form=ActionForm(),
        attach_form=AttachMailForm(),
    )


@bp.route("/<int:mail_id>/raw")
@staff_required
def raw(mail_id: int):
    record = _mail_or_404(mail_id)
    response = Response(pipeline.raw_bytes(record), mimetype="message/rfc822")
    response.headers["Content-Disposition"] = f'attachment; filename="inbound-{record.id}.eml"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.route("/<int:mail_id>/ticket", methods=["POST"])
@staff_required
def make_ticket(mail_id: int):
    record = _mail_or_404(mail_id)
    ticket = _attempt(quarantine.release_as_ticket, record, current_user)
    if ticket is None:
        return redirect(url_for("mailroom.index"))
    flash(_("Ticket %(ref)s opened from the mail.", ref=ticket.reference), "success")
    return redirect(url_for("queue.ticket", reference=ticket.reference))


@bp.route("/<int:mail_id>/attach", methods=["POST"])
@staff_required
def attach(mail_id: int):
    record = _mail_or_404(mail_id)
    form = AttachMailForm()
    if not form.validate_on_submit():
        flash(_("Give the reference of the ticket, for example FLOA-000123."), "danger")
        return redirect(url_for("mailroom.index"))
    ticket = get_ticket_for(current_user, form.reference.data)
    if _attempt(quarantine.attach_to_ticket, record, current_user, ticket) is None:
        return redirect(url_for("mailroom.index"))
    flash(_("Mail added to %(ref)s.", ref=ticket.reference), "success")
    return redirect(url_for("queue.ticket", reference=ticket.reference))


@bp.route("/<int:mail_id>/discard", methods=["POST"])
@staff_required
def discard(mail_id: int):
    record = _mail_or_404(mail_id)
    if _attempt(quarantine.discard, record, current_user) is not None:
        flash(_("Mail discarded. It stays in the archive."), "success")
    return redirect(request.referrer or url_for("mailroom.index"))
