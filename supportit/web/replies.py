"""Canned replies: the agents' list, and the form that writes one."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from supportit.db import db
from supportit.i18n import current_language
from supportit.i18n import gettext as _
from supportit.models import Article, Category, Priority, Status
from supportit.services import canned
from supportit.services.errors import ServiceError
from supportit.web.access import staff_required
from supportit.web.forms import ActionForm, CannedReplyForm, parse_enum, report_service_error

bp = Blueprint("replies", __name__, url_prefix="/queue/replies")


@bp.route("/")
@staff_required
def index():
    return render_template(
        "queue/replies.html",
        replies=canned.visible_to(current_user),
        action_form=ActionForm(),
    )


def _article_choices() -> list[tuple[str, str]]:
    title = Article.title_en if current_language() == "en" else Article.title_fr
    rows = db.session.execute(
        select(Article.slug, title).where(Article.published.is_(True)).order_by(title)
    )
    return [(slug, text) for slug, text in rows]


def _editable(reply_id: int):  # type: ignore[no-untyped-def]
    reply = canned.get_for(current_user, reply_id)
    if reply is None:
        abort(404)
    return reply


@bp.route("/new", methods=["GET", "POST"])
@bp.route("/<int:reply_id>", methods=["GET", "POST"])
@staff_required
def edit(reply_id: int | None = None):
    reply = _editable(reply_id) if reply_id is not None else None
    form = CannedReplyForm()
    form.set_articles(_article_choices())
    if request.method == "GET" and reply is not None:
        form.title.data = reply.title
        form.scope.data = "shared" if reply.shared else "personal"
        form.body_fr.data = reply.body_fr
        form.body_en.data = reply.body_en
        form.set_status.data = reply.set_status.value if reply.set_status else ""
        form.set_category.data = reply.set_category.value if reply.set_category else ""
        form.set_priority.data = reply.set_priority.value if reply.set_priority else ""
        form.articles.data = list(reply.article_slugs or [])
    status = 200
    if form.is_submitted():
        if form.validate():
            data = canned.CannedData(
                title=form.title.data or "",
                body_fr=form.body_fr.data or "",
                body_en=form.body_en.data or "",
                shared=form.scope.data == "shared",
                set_status=parse_enum(Status, form.set_status.data),
                set_category=parse_enum(Category, form.set_category.data),
                set_priority=parse_enum(Priority, form.set_priority.data),
                article_slugs=list(form.articles.data or []),
            )
            try:
                saved = canned.save(reply, data, current_user)
            except ServiceError as error:
                report_service_error(form, error)
            else:
                flash(_("Canned reply “%(title)s” saved.", title=saved.title), "success")
                return redirect(url_for("replies.index"))
        status = 400
    return render_template(
        "queue/reply_edit.html",
        form=form,
        reply=reply,
        placeholders=canned.PLACEHOLDERS,
        can_edit=reply is None or reply.editable_by(current_user),
    ), status


@bp.route("/<int:reply_id>/delete", methods=["POST"])
@staff_required
def delete(reply_id: int):
    reply = _editable(reply_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        canned.delete(reply, current_user)
    except ServiceError as error:
        db.session.rollback()
        flash(str(error.message), "danger")
    else:
        flash(_("Canned reply deleted."), "success")
    return redirect(url_for("replies.index"))
