"""The agents' queue: views per category, filters, search, the ticket page and its actions."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_decimal
from flask_login import current_user
from sqlalchemy import select

from supportit.db import db
from supportit.i18n import gettext as _
from supportit.i18n import lazy_gettext as _l
from supportit.intake import quarantine
from supportit.models import Category, Merchant, Priority, Status, Ticket, User
from supportit.services import (
    canned,
    classification,
    jira_sync,
    kb,
    onboarding,
    paygate,
    presence,
    queue,
    saved_views,
    sla,
    tickets,
    watchers,
)
from supportit.services.errors import ServiceError, StaleTicket
from supportit.web.access import (
    get_attachment_for,
    get_ticket_for,
    merged_redirect,
    staff_required,
)
from supportit.web.files import send_attachment
from supportit.web.forms import (
    ActionForm,
    AgentReplyForm,
    AssignForm,
    BulkAssignForm,
    MergeForm,
    TicketFieldsForm,
    parse_enum,
    report_service_error,
    uploads_from,
)

bp = Blueprint("queue", __name__, url_prefix="/queue")


@bp.route("/")
@staff_required
def index():
    f, problems = queue.filter_from_args(request.args)
    if problems:
        flash(
            _(
                "Some filters were not understood and were ignored: %(names)s. "
                "Dates are written YYYY-MM-DD.",
                names=", ".join(problems),
            ),
            "warning",
        )
    page = queue.paginate(
        queue.queue_select(current_user, f),
        per_page=current_app.config["TICKETS_PER_PAGE"],
        count_limit=queue.SEARCH_COUNT_LIMIT if f.q.strip() else None,
    )
    agents = tickets.staff_users()
    saved = saved_views.visible_to(current_user)
    bulk_form = BulkAssignForm()
    bulk_form.set_agents(agents)
    return render_template(
        "queue/index.html",
        page=page,
        f=f,
        counts=queue.view_counts(current_user),
        quarantined=quarantine.quarantine_count(),
        agents=agents,
        # Names for the filter: rows, not merchants with everything they hold.
        merchants=db.session.execute(select(Merchant.id, Merchant.name).order_by(Merchant.name)),
        bulk_form=bulk_form,
        views=queue.VIEWS,
        saved=saved,
        current_query=saved_views.normalise(request.query_string.decode("utf-8", "replace")),
        action_form=ActionForm(),
    )


@bp.get("/views/counts")
@staff_required
def saved_view_counts():
    """Each saved view's count, written as the sidebar shows it. The queue page asks for them
    once shown: a count per view is a query, and an agent may keep many views."""
    views = saved_views.visible_to(current_user)
    return jsonify(
        {
            str(view_id): format_decimal(n) + ("+" if more else "")
            for view_id, (n, more) in saved_views.counts(current_user, views).items()
        }
    )


@bp.route("/views", methods=["POST"])
@staff_required
def save_view():
    """Keep the filters the agent is looking at as a named view."""
    query = request.form.get("query", "")
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        view = saved_views.save(
            current_user,
            request.form.get("name", ""),
            query,
            shared=request.form.get("shared") == "1",
        )
    except ServiceError as error:
        db.session.rollback()
        flash(str(error.message), "danger")
        return redirect(url_for("queue.index") + "?" + saved_views.normalise(query))
    flash(_("View “%(name)s” saved.", name=view.name), "success")
    return redirect(url_for("queue.index") + "?" + view.query)


@bp.route("/views/<int:view_id>/delete", methods=["POST"])
@staff_required
def delete_view(view_id: int):
    view = saved_views.get_for(current_user, view_id)
    if view is None:
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        saved_views.delete(current_user, view)
    except ServiceError as error:
        db.session.rollback()
        flash(str(error.message), "danger")
    else:
        flash(_("View deleted."), "success")
    return redirect(url_for("queue.index"))


@bp.route("/bulk-assign", methods=["POST"])
@staff_required
def bulk_assign():
    form = BulkAssignForm()
    form.set_agents(tickets.staff_users())
    ids = [int(v) for v in request.form.getlist("ticket_ids") if v.isdigit()]
    if not form.validate_on_submit():
        flash(_("Choose an agent from the list."), "danger")
    else:
        assignee = _agent(form.assignee.data)
        try:
            changed = tickets.bulk_assign(ids, current_user, assignee)
        except ServiceError as error:
            db.session.rollback()
            flash(str(error.message), "danger")
        else:
            flash(_("%(n)d ticket(s) assigned.", n=changed), "success")
    return redirect(request.referrer if _same_site(request.referrer) else url_for("queue.index"))


def _same_site(url: str | None) -> bool:
    return bool(url) and url.startswith(request.host_url)


def _agent(value: str | None) -> User | None:
    return db.session.get(User, int(value)) if value else None


def _render_ticket(ticket, reply_form=None, fields_form=None, status=200, stale=False):  # type: ignore[no-untyped-def]
    """The ticket page. What the agent reads around the conversation (the canned replies, the
    merchant's other tickets, contacts and identifiers, onboarding, Paygate transactions,
    suggested articles) comes in a second request once the page is shown (`ticket_context`),
    so that opening a ticket waits only for the ticket. Without JavaScript, `?context=1` or an
    article search shows it all in the page."""
    inline_context = bool(_kb_query() or request.args.get("context"))
    agents = tickets.staff_users()
    # A canned reply being edited without JavaScript (`?canned=<id>`) is written out here.
    chosen = request.args.get("canned", type=int)
    replies = _canned_replies(ticket) if inline_context or chosen is not None else None
    reply_form = reply_form or _draft_form(ticket, replies or [], chosen)
    fields_form = fields_form or TicketFieldsForm(
        status=ticket.status.value,
        priority=ticket.priority.value,
        category=ticket.category.value,
        version=ticket.version,
    )
    assign_form = AssignForm(assignee=str(ticket.assignee_id or ""), version=ticket.version)
    assign_form.set_agents(agents)
    return (
        render_template(
            "queue/ticket.html",
            ticket=ticket,
            messages=tickets.conversation(ticket),
            reply_form=reply_form,
            fields_form=fields_form,
            assign_form=assign_form,
            action_form=ActionForm(),
            sla_clocks=sla.view(ticket),
            jira=jira_sync.link_for_ticket(ticket),
            stale=stale,
            kb_query=_kb_query(),
            classified=classification.for_ticket(ticket),
            canned_replies=replies,
            merge_form=MergeForm(version=ticket.version),
            inline_context=inline_context,
            **(_context(ticket) if inline_context else {}),
            colleagues=presence.others(ticket, current_user),
            said=[],
            followers=watchers.watchers_of(ticket),
            beat_seconds=presence.beat_seconds(),
        ),
        status,
    )


def _canned_replies(ticket) -> list[canned.Rendered]:  # type: ignore[no-untyped-def]
    """The agent's canned replies, written out for this ticket."""
    return canned.render_all(canned.visible_to(current_user), ticket, current_user)


def _draft_form(ticket, replies: list[canned.Rendered], chosen: int | None) -> AgentReplyForm:  # type: ignore[no-untyped-def]
    """An empty reply, or the canned one `chosen` written out (`?canned=<id>`, the way in
    without JavaScript)."""
    form = AgentReplyForm(version=ticket.version)
    for rendered in replies:
        if rendered.reply.id == chosen:
            form.body.data = rendered.body
            form.canned.data = chosen
            if rendered.reply.set_status is not None:
                form.status.data = rendered.reply.set_status.value
    return form


def _context(ticket: Ticket) -> dict[str, object]:
    texts = ticket.message_texts()  # for the transactions and the articles: read once
    return {
        "other_tickets": queue.other_open_tickets(ticket),
        "transactions": paygate.transactions_for_ticket(ticket, texts=texts),
        "onboarding": onboarding.active_for(ticket.merchant) if ticket.merchant else None,
        "suggestions": _kb_suggestions(ticket, texts),
    }


def _kb_query() -> str:
    return (request.args.get("kb") or "").strip()[:200]


def _kb_suggestions(ticket, texts):  # type: ignore[no-untyped-def]
    """Articles beside the ticket: the agent's own search, else what the ticket is about
    (`texts`: its message_texts())."""
    query = _kb_query()
    return kb.search(query, limit=5) if query else kb.suggest_for_ticket(ticket, texts=texts)


def _reload_after(error: ServiceError, ticket) -> None:  # type: ignore[no-untyped-def]
    """Drop the refused change and show the ticket as it now is, with the reason."""
    db.session.rollback()
    db.session.refresh(ticket)
    flash(str(error.message), "warning")


@bp.route("/tickets/<reference>")
@staff_required
def ticket(reference: str):
    # Its conversation as rows, read by _render_ticket: not as the ORM's messages.
    found = get_ticket_for(current_user, reference, conversation=False)
    if found.merged_into_id is not None:
        return merged_redirect(found, "queue.ticket")
    watchers.mark_read(current_user, found)  # what the bell said about it is read here
    return _render_ticket(found)


@bp.route("/tickets/<reference>/context")
@staff_required
def ticket_context(reference: str):
    """The panels around a ticket's conversation, fetched by the ticket page once shown, and
    the canned replies. Without the conversation: the panels read its words only."""
    ticket = get_ticket_for(current_user, reference, conversation=False)
    return render_template(
        "queue/_ticket_context.html",
        ticket=ticket,
        kb_query="",
        merge_form=MergeForm(version=ticket.version),
        # The page's script moves them to their place, above the ticket's details.
        deferred_canned=True,
        canned_replies=_canned_replies(ticket),
        action_form=ActionForm(),
        **_context(ticket),
    )


@bp.route("/tickets/<reference>/history")
@staff_required
def ticket_history(reference: str):
    """A ticket's history, fetched when the agent opens it (a long ticket has hundreds)."""
    ticket = get_ticket_for(current_user, reference, conversation=False)
    return render_template("queue/_history.html", ticket=ticket)


@bp.route("/tickets/<reference>/follow", methods=["POST"])
@staff_required
def follow(reference: str):
    ticket = get_ticket_for(current_user, reference)
    if not ActionForm().validate_on_submit():
        abort(400)
    if request.form.get("follow") == "0":
        watchers.unfollow(ticket, current_user)
        flash(_("You no longer follow %(ref)s.", ref=ticket.reference), "success")
    else:
        watchers.follow(ticket, current_user)
        flash(
            _(
                "You follow %(ref)s: you will be told of each new message.",
                ref=ticket.reference,
            ),
            "success",
        )
    return redirect(url_for("queue.ticket", reference=ticket.reference))


@bp.route("/notices", methods=["GET", "POST"])
@staff_required
def notices():
    """The bell: mentions and news of followed tickets, newest first."""
    if request.method == "POST":
        if not ActionForm().validate_on_submit():
            abort(400)
        watchers.mark_read(current_user)
        return redirect(url_for("queue.notices"))
    return render_template(
        "queue/notices.html", notices=watchers.notices(current_user), action_form=ActionForm()
    )


@bp.route("/tickets/<reference>/presence", methods=["POST"])
@staff_required
def presence_beat(reference: str):
    """The open ticket page's heartbeat: answers with who else is on the ticket and what was
    said since the page was loaded (`since`: the last message it shows)."""
    # The ticket alone, not its conversation: seven agents beat every few seconds.
    ticket = get_ticket_for(current_user, reference, conversation=False)
    if not ActionForm().validate_on_submit():
        abort(400)
    if request.form.get("leaving"):
        presence.leave(ticket, current_user)
        return "", 204
    presence.beat(ticket, current_user, writing=request.form.get("writing") == "1")
    return render_template(
        "queue/_presence.html",
        ticket=ticket,
        colleagues=presence.others(ticket, current_user),
        said=presence.said_since(ticket, current_user, request.form.get("since", type=int)),
    )


@bp.route("/tickets/<reference>/merge", methods=["POST"])
@staff_required
def merge(reference: str):
    """This ticket is a duplicate: its conversation joins the ticket the agent names."""
    duplicate = get_ticket_for(current_user, reference)
    form = MergeForm()
    if not form.validate_on_submit():
        flash(_("Give the reference of the ticket to merge into."), "danger")
        return redirect(url_for("queue.ticket", reference=duplicate.reference))
    target = tickets.by_reference(form.target.data)
    try:
        if target is None:
            raise ServiceError(_l("No ticket has the reference %(ref)s.", ref=form.target.data))
        survivor = tickets.merge(
            duplicate, target, current_user, expected_version=form.version.data
        )
    except ServiceError as error:
        _reload_after(error, duplicate)
        return redirect(url_for("queue.ticket", reference=duplicate.reference))
    flash(
        _("%(old)s merged into %(new)s.", old=duplicate.reference, new=survivor.reference),
        "success",
    )
    return redirect(url_for("queue.ticket", reference=survivor.reference))


@bp.route("/tickets/<reference>/split", methods=["POST"])
@bp.route("/tickets/<reference>/messages/<int:message_id>/split", methods=["POST"])
@staff_required
def split(reference: str, message_id: int | None = None):
    """A second question in the thread: its message becomes a ticket of its own.

    The ticket page has one split form; each message's button sends the message's id with it.
    """
    ticket = get_ticket_for(current_user, reference)
    if message_id is None:
        message_id = request.form.get("message_id", type=int)
    message = next((m for m in ticket.messages if m.id == message_id), None)
    if message is None:
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        new = tickets.split(message, current_user, request.form.get("subject"))
    except ServiceError as error:
        _reload_after(error, ticket)
        return redirect(url_for("queue.ticket", reference=ticket.reference))
    flash(
        _("The message is now ticket %(new)s.", new=new.reference),
        "success",
    )
    return redirect(url_for("queue.ticket", reference=new.reference))


@bp.route("/tickets/<reference>/reply", methods=["POST"])
@staff_required
def reply(reference: str):
    ticket = get_ticket_for(current_user, reference)
    form = AgentReplyForm()
    if not form.validate_on_submit():
        return _render_ticket(ticket, reply_form=form, status=400)
    internal = form.kind.data == "note"
    chosen = canned.get_for(current_user, form.canned.data)
    try:
        if chosen is not None:
            canned.send(
                ticket,
                chosen,
                current_user,
                body=form.body.data,
                internal=internal,
                uploads=uploads_from(form.attachments),
                new_status=parse_enum(Status, form.status.data),
                expected_version=form.version.data,
                time_spent=form.time_spent.data,
            )
        else:
            tickets.reply(
                ticket,
                current_user,
                form.body.data,
                internal=internal,
                uploads=uploads_from(form.attachments),
                new_status=parse_enum(Status, form.status.data),
                expected_version=form.version.data,
                time_spent=form.time_spent.data,
            )
    except StaleTicket as error:
        _reload_after(error, ticket)
        # Keep the draft and move it to the current version: sending again is the confirmation.
        form.version.data = ticket.version
        return _render_ticket(ticket, reply_form=form, status=409, stale=True)
    except ServiceError as error:
        report_service_error(form, error)
        return _render_ticket(ticket, reply_form=form, status=400)
    flash(_("Internal note added.") if internal else _("Reply sent to the merchant."), "success")
    return redirect(url_for("queue.ticket", reference=ticket.reference))


@bp.route("/tickets/<reference>/canned/<int:reply_id>", methods=["POST"])
@staff_required
def send_canned(reference: str, reply_id: int):
    """The second click: the canned reply, written out for this ticket, goes to the merchant."""
    ticket = get_ticket_for(current_user, reference)
    chosen = canned.get_for(current_user, reply_id)
    form = ActionForm()
    if chosen is None or not form.validate_on_submit():
        abort(404 if chosen is None else 400)
    try:
        canned.send(
            ticket, chosen, current_user, expected_version=request.form.get("version", type=int)
        )
    except StaleTicket as error:
        _reload_after(error, ticket)
        return _render_ticket(ticket, status=409, stale=True)
    except ServiceError as error:
        _reload_after(error, ticket)
        return _render_ticket(ticket, status=400)
    flash(_("Canned reply “%(title)s” sent to the merchant.", title=chosen.title), "success")
    return redirect(url_for("queue.ticket", reference=ticket.reference))


@bp.route("/tickets/<reference>/fields", methods=["POST"])
@staff_required
def update_fields(reference: str):
    ticket = get_ticket_for(current_user, reference)
    form = TicketFieldsForm()
    if not form.validate_on_submit():
        return _render_ticket(ticket, fields_form=form, status=400)
    try:
        changed = tickets.update_fields(
            ticket,
            current_user,
            expected_version=form.version.data,
            status=Status(form.status.data),
            priority=Priority(form.priority.data),
            category=Category(form.category.data),
        )
    except StaleTicket as error:
        _reload_after(error, ticket)
        return _render_ticket(ticket, status=409, stale=True)
    flash(_("Ticket updated.") if changed else _("Nothing to change."), "success")
    return redirect(url_for("queue.ticket", reference=ticket.reference))


@bp.route("/tickets/<reference>/classification", methods=["POST"])
@staff_required
def classification_decision(reference: str):
    """The agent settles the queue: moves the ticket where the classifier says, or keeps it."""
    ticket = get_ticket_for(current_user, reference)
    form = ActionForm()
    record = classification.for_ticket(ticket)
    if not form.validate_on_submit() or record is None:
        abort(400)
    try:
        if request.form.get("decision") == "accept":
            tickets.update_fields(
                ticket,
                current_user,
                expected_version=request.form.get("version", type=int),
                category=Category(record.category),
            )
            flash(_("Ticket moved to the queue the classifier suggested."), "success")
        else:
            classification.confirm(ticket, current_user)
            flash(_("Queue confirmed; the classifier will learn from it."), "success")
    except StaleTicket as error:
        _reload_after(error, ticket)
        return _render_ticket(ticket, status=409, stale=True)
    return redirect(url_for("queue.ticket", reference=ticket.reference))


@bp.route("/tickets/<reference>/assign", methods=["POST"])
@staff_required
def assign(reference: str):
    ticket = get_ticket_for(current_user, reference)
    form = AssignForm()
    form.set_agents(tickets.staff_users())
    if not form.validate_on_submit():
        flash(_("Choose an agent from the list."), "danger")
        return _render_ticket(ticket, status=400)
    try:
        tickets.assign(
            ticket, current_user, _agent(form.assignee.data), expected_version=form.version.data
        )
    except ServiceError as error:
        _reload_after(error, ticket)
        return _render_ticket(ticket, status=409, stale=isinstance(error, StaleTicket))
    flash(_("Assignee updated."), "success")
    return redirect(url_for("queue.ticket", reference=ticket.reference))


@bp.route("/tickets/<reference>/take", methods=["POST"])
@staff_required
def take(reference: str):
    ticket = get_ticket_for(current_user, reference)
    tickets.assign(ticket, current_user, current_user)
    flash(_("You now own %(ref)s.", ref=ticket.reference), "success")
    return redirect(url_for("queue.ticket", reference=ticket.reference))


@bp.route("/tickets/<reference>/jira", methods=["POST"])
@staff_required
def escalate(reference: str):
    ticket = get_ticket_for(current_user, reference)
    if ActionForm().validate_on_submit():
        try:
            jira_sync.escalate_ticket(ticket, current_user)
        except ServiceError as error:
            db.session.rollback()
            flash(str(error.message), "danger")
        else:
            flash(_("Escalated to Jira: the issue is created as soon as Jira answers."), "success")
    return redirect(url_for("queue.ticket", reference=ticket.reference))


@bp.route("/tickets/<reference>/attachments/<int:attachment_id>")
@staff_required
def attachment(reference: str, attachment_id: int):
    ticket = get_ticket_for(current_user, reference)
    return send_attachment(get_attachment_for(current_user, ticket, attachment_id))
