"""The merchant portal: open a ticket, follow it, answer, close or reopen it."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from supportit.db import db
from supportit.models import Category, Environment, Priority, Product
from supportit.services import queue, tickets
from supportit.services.errors import ServiceError
from supportit.web.access import get_attachment_for, get_ticket_for, merchant_required
from supportit.web.files import send_attachment
from supportit.web.forms import (
    ActionForm,
    NewTicketForm,
    ReplyForm,
    parse_enum,
    report_service_error,
    uploads_from,
)

bp = Blueprint("portal", __name__, url_prefix="/portal")

LIST_FILTERS = ("active", "done", "all")


@bp.route("/")
@merchant_required
def index():
    show = request.args.get("show", "active")
    if show not in LIST_FILTERS:
        show = "active"
    q = request.args.get("q", "")[:200]
    page = db.paginate(
        queue.merchant_tickets_select(current_user.merchant, show, q),
        per_page=20,
        error_out=False,
    )
    return render_template("portal/index.html", page=page, show=show, q=q)


@bp.route("/tickets/new", methods=["GET", "POST"])
@merchant_required
def new_ticket():
    merchant = current_user.merchant
    form = NewTicketForm()
    form.set_products(merchant.products)
    if request.method == "GET" and request.args.get("category") in {c.value for c in Category}:
        form.category.data = request.args["category"]
    if form.validate_on_submit():
        try:
            ticket = tickets.open_ticket(
                merchant,
                current_user,
                tickets.NewTicket(
                    subject=form.subject.data,
                    category=Category(form.category.data),
                    body=form.body.data,
                    priority=Priority(form.priority.data),
                    environment=parse_enum(Environment, form.environment.data),
                    product=parse_enum(Product, form.product.data),
                    ref_nr=form.ref_nr.data,
                    trans_id=form.trans_id.data,
                    pay_id=form.pay_id.data,
                    uploads=uploads_from(form.attachments),
                ),
            )
        except ServiceError as error:
            report_service_error(form, error)
        else:
            flash(
                _(
                    "Your ticket %(ref)s was opened. We answer within business hours.",
                    ref=ticket.reference,
                ),
                "success",
            )
            return redirect(url_for("portal.ticket", reference=ticket.reference))
    return render_template("portal/new_ticket.html", form=form)


@bp.route("/tickets/<reference>")
@merchant_required
def ticket(reference: str):
    ticket = get_ticket_for(current_user, reference)
    return _render_ticket(ticket, ReplyForm())


def _render_ticket(ticket, form: ReplyForm, status: int = 200):  # type: ignore[no-untyped-def]
    return (
        render_template(
            "portal/ticket.html",
            ticket=ticket,
            messages=ticket.public_messages(),
            form=form,
            action_form=ActionForm(),
        ),
        status,
    )


@bp.route("/tickets/<reference>/reply", methods=["POST"])
@merchant_required
def reply(reference: str):
    ticket = get_ticket_for(current_user, reference)
    form = ReplyForm()
    if not form.validate_on_submit():
        return _render_ticket(ticket, form, 400)
    try:
        tickets.reply(ticket, current_user, form.body.data, uploads=uploads_from(form.attachments))
    except ServiceError as error:
        report_service_error(form, error)
        return _render_ticket(ticket, form, 400)
    flash(_("Your reply was sent."), "success")
    return redirect(url_for("portal.ticket", reference=ticket.reference))


@bp.route("/tickets/<reference>/close", methods=["POST"])
@merchant_required
def close(reference: str):
    ticket = get_ticket_for(current_user, reference)
    tickets.close(ticket, current_user)
    flash(_("The ticket is closed. You can reopen it if needed."), "success")
    return redirect(url_for("portal.ticket", reference=ticket.reference))


@bp.route("/tickets/<reference>/reopen", methods=["POST"])
@merchant_required
def reopen(reference: str):
    ticket = get_ticket_for(current_user, reference)
    tickets.reopen(ticket, current_user)
    flash(_("The ticket is reopened: the support team will see it again."), "success")
    return redirect(url_for("portal.ticket", reference=ticket.reference))


@bp.route("/tickets/<reference>/attachments/<int:attachment_id>")
@merchant_required
def attachment(reference: str, attachment_id: int):
    ticket = get_ticket_for(current_user, reference)
    return send_attachment(get_attachment_for(current_user, ticket, attachment_id))
