"""The merchant portal: open a ticket, follow it, answer, close or reopen it."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from supportit.db import db, utcnow
from supportit.i18n import current_language
from supportit.i18n import gettext as _
from supportit.models import Category, Environment, Priority, Product, TicketFlag
from supportit.services import alerts, kb, queue, satisfaction, sla, tickets
from supportit.services.errors import ServiceError
from supportit.web.access import (
    get_attachment_for,
    get_ticket_for,
    merchant_required,
    merged_redirect,
)
from supportit.web.files import send_attachment
from supportit.web.forms import (
    ActionForm,
    NewTicketForm,
    ReplyForm,
    UrgentForm,
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
    page = queue.paginate(
        queue.merchant_tickets_select(current_user.merchant, show, q),
        per_page=20,
        count_limit=queue.SEARCH_COUNT_LIMIT if q.strip() else None,
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
    off_hours = not sla.team_calendar().is_business_hours(utcnow())
    if form.validate_on_submit() and _urgent_confirmed(form, off_hours):
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
            if ticket.flag is TicketFlag.URGENT_CAPPED:
                flash(_urgent_capped_message(), "warning")
            return redirect(url_for("portal.ticket", reference=ticket.reference))
    typed = f"{form.subject.data or ''} {form.body.data or ''}".strip()
    return render_template(
        "portal/new_ticket.html",
        form=form,
        off_hours=off_hours,
        # Without JavaScript the suggestions still show once the form comes back with an error.
        suggestions=kb.search(typed, limit=5) if typed else [],
        language=current_language(),
        subject=form.subject.data or "",
        category=form.category.data or "",
        action_form=ActionForm(),
    )


def _urgent_confirmed(form: NewTicketForm, off_hours: bool) -> bool:
    """Outside business hours, a production-down RUN P1 ticket must be confirmed first."""
    urgent = alerts.is_urgent(
        parse_enum(Category, form.category.data),
        parse_enum(Priority, form.priority.data),
        parse_enum(Environment, form.environment.data),
    )
    if off_hours and urgent and not form.confirm_urgent.data:
        form.confirm_urgent.errors = [
            _("Confirm that production is blocked: the on-call engineer will be called.")
        ]
        return False
    return True


def _urgent_capped_message() -> str:
    return _(
        "You have reached today's limit of urgent tickets (%(n)d): this one was not sent to the "
        "on-call engineer. The team will handle it first thing at opening.",
        n=current_app.config["URGENT_TICKETS_PER_DAY"],
    )


@bp.route("/tickets/<reference>/urgent", methods=["POST"])
@merchant_required
def urgent(reference: str):
    ticket = get_ticket_for(current_user, reference)
    form = UrgentForm()
    if not form.validate_on_submit():
        flash(_("Tick the box to confirm the emergency."), "warning")
    else:
        try:
            paged = tickets.mark_urgent(ticket, current_user)
        except ServiceError as error:
            flash(str(error.message), "warning")
        else:
            if paged:
                flash(_("The on-call engineer is being called about your ticket."), "success")
            else:
                flash(_urgent_capped_message(), "warning")
    return redirect(url_for("portal.ticket", reference=ticket.reference))


@bp.route("/tickets/<reference>")
@merchant_required
def ticket(reference: str):
    # Its conversation as rows, read by _render_ticket: not as the ORM's messages.
    ticket = get_ticket_for(current_user, reference, conversation=False)
    if ticket.merged_into_id is not None:
        return merged_redirect(ticket, "portal.ticket")
    return _render_ticket(ticket, ReplyForm())


def _render_ticket(ticket, form: ReplyForm, status: int = 200):  # type: ignore[no-untyped-def]
    return (
        render_template(
            "portal/ticket.html",
            ticket=ticket,
            messages=tickets.conversation(ticket, public=True),
            form=form,
            action_form=ActionForm(),
            urgent_form=UrgentForm(),
            # Offered outside business hours on a production ticket not already urgent.
            can_mark_urgent=(
                ticket.status.is_active
                and ticket.environment is Environment.PRODUCTION
                and not (ticket.priority is Priority.P1 and ticket.category is Category.RUN)
                and not sla.team_calendar().is_business_hours(utcnow())
            ),
            can_rate=satisfaction.can_rate(ticket, current_user),
            survey=None if ticket.status.is_active else satisfaction.for_ticket(ticket),
        ),
        status,
    )


@bp.route("/tickets/<reference>/rating", methods=["POST"])
@merchant_required
def rate(reference: str):
    """One click on a score (the comment box above it is optional)."""
    ticket = get_ticket_for(current_user, reference)
    if not ActionForm().validate_on_submit():
        flash(_("The form expired: please try again."), "danger")
    else:
        try:
            satisfaction.rate_in_portal(
                ticket, current_user, request.form.get("score"), request.form.get("comment")
            )
        except ServiceError as error:
            db.session.rollback()
            flash(str(error.message), "danger")
        else:
            flash(_("Thank you for your rating."), "success")
    return redirect(url_for("portal.ticket", reference=ticket.reference) + "#rating")


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
