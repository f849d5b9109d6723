"""Paygate pages: the agents' inspector, merchants' notifications, and the URLNotify receiver."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from supportit.db import db
from supportit.extensions import csrf
from supportit.i18n import gettext as _
from supportit.models import Merchant
from supportit.paygate.report_text import summary
from supportit.services import paygate, tickets
from supportit.services.errors import ServiceError
from supportit.web.access import staff_required
from supportit.web.forms import InspectForm, report_service_error

bp = Blueprint("paygate", __name__)


def _merchant_from_path(key: str) -> Merchant | None:
    """`/paygate/notify/<merchant>` names the merchant by id or by name (any case, - for spaces)."""
    if key.isdigit():
        return db.session.get(Merchant, int(key))
    wanted = key.replace("-", " ").casefold()
    return next(
        (m for m in db.session.scalars(select(Merchant)) if m.name.casefold() == wanted), None
    )


@bp.route("/paygate/notify/<merchant>", methods=["POST"])
@csrf.exempt  # Paygate cannot send our CSRF token; the MAC is what authenticates the call
def notify(merchant: str):
    found = _merchant_from_path(merchant)
    if found is None:
        return "unknown merchant\n", 404, {"Content-Type": "text/plain; charset=utf-8"}
    # A notification is a few hundred bytes: read no more than the receiver keeps.
    body = request.stream.read(paygate.BODY_LIMIT)
    receipt = paygate.receive_notification(found, body, remote_addr=request.remote_addr)
    text = "OK" if receipt.http_status == 200 else f"REJECTED {receipt.notification.reason_code}"
    return text + "\n", receipt.http_status, {"Content-Type": "text/plain; charset=utf-8"}


@bp.route("/queue/paygate/inspect", methods=["GET", "POST"])
@staff_required
def inspect():
    form = InspectForm()
    form.account.choices = [SelectChoice("", _("Found from the MerchantID in the paste"))] + [
        SelectChoice(str(a.id), f"{a.merchant.name} · {a.mid} ({a.environment})")
        for a in paygate.accounts()
    ]
    if request.method == "GET" and request.args.get("ticket"):
        form.ticket.data = request.args["ticket"]
    report = None
    if form.validate_on_submit():
        account = (
            db.session.get(paygate.PaygateAccount, int(form.account.data))
            if form.account.data
            else None
        )
        report = paygate.inspect_paste(
            form.raw.data or "",
            account=account,
            blowfish_key=form.blowfish_key.data or None,
            hmac_key=form.hmac_key.data or None,
        )
        if any(finding.code == "too_large" for finding in report.findings):
            form.raw.data = ""  # a 5 MB paste is not sent back to the browser
        if "attach" in request.form:
            ticket = tickets.by_reference(form.ticket.data)
            if ticket is None:
                form.ticket.errors = [_("No ticket has this reference.")]
            else:
                try:
                    paygate.attach_report(ticket, current_user, report)
                except ServiceError as error:
                    report_service_error(form, error)
                else:
                    flash(
                        _("The inspection was added to the ticket as an internal note."), "success"
                    )
                    return redirect(url_for("queue.ticket", reference=ticket.reference))
    return render_template(
        "paygate/inspect.html", form=form, report=report, summary=summary, translate=_
    )


@bp.route("/queue/paygate/notifications")
@staff_required
def notifications():
    merchants = list(db.session.scalars(select(Merchant).order_by(Merchant.name)))
    selected = None
    if request.args.get("merchant", "").isdigit():
        selected = db.session.get(Merchant, int(request.args["merchant"]))
        if selected is None:
            abort(404)
    elif merchants:
        selected = merchants[0]
    rows = paygate.recent_notifications(selected, limit=100) if selected else []
    return render_template(
        "paygate/notifications.html", merchants=merchants, selected=selected, rows=rows
    )
