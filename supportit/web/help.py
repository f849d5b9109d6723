"""The help centre: public knowledge-base pages, suggestions while a ticket is written, and the
merchant's "this solved my problem" that closes a question without a ticket."""

from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from supportit.db import db
from supportit.i18n import current_language
from supportit.i18n import gettext as _
from supportit.models import KB_CATEGORIES, Article
from supportit.services import kb
from supportit.services.errors import ServiceError
from supportit.web.access import merchant_required, staff_required
from supportit.web.forms import ActionForm

bp = Blueprint("help", __name__)

SUGGESTIONS = 5


@bp.route("/help/")
def index():
    query = (request.args.get("q") or "").strip()[:200]
    category = request.args.get("category")
    if category not in KB_CATEGORIES:
        category = None
    if query:
        articles = kb.search(query, limit=20, category=category)
    elif category:
        articles = kb.by_category(category)
    else:
        articles = []
    return render_template(
        "help/index.html",
        query=query,
        category=category,
        articles=articles,
        counts=kb.category_counts(),
        popular=kb.popular() if not (query or category) else [],
        categories=KB_CATEGORIES,
        language=current_language(),
    )


@bp.route("/help/<slug>")
def article(slug: str):
    found = kb.by_slug(
        slug, published_only=not (current_user.is_authenticated and current_user.is_admin)
    )
    if found is None:
        abort(404)
    kb.record_view(found)
    return render_template(
        "help/article.html",
        article=found,
        body=kb.render(found.body(current_language())),
        related=[a for a in kb.by_category(found.category) if a.id != found.id][:5],
        language=current_language(),
        solved=request.args.get("solved") == "1",
    )


@bp.route("/help/suggest")
def suggest():
    """Published articles for a free text, as JSON (scripts, the API)."""
    language = current_language()
    found = kb.search(request.args.get("q", "")[:2000], limit=SUGGESTIONS, as_you_type=True)
    return jsonify(
        articles=[
            {
                "slug": a.slug,
                "category": a.category,
                "title": a.title(language),
                "summary": a.summary(language),
                "url": url_for("help.article", slug=a.slug, _external=True),
                "docs": a.doc_links,
            }
            for a in found
        ]
    )


@bp.route("/portal/tickets/suggestions")
@merchant_required
def ticket_suggestions():
    """The suggestions panel of the new-ticket form, re-rendered while the merchant types."""
    text = f"{request.args.get('subject', '')} {request.args.get('body', '')}"[:2000]
    return render_template(
        "help/_suggestions.html",
        suggestions=kb.search(text, limit=SUGGESTIONS, as_you_type=True),
        language=current_language(),
        subject=request.args.get("subject", "")[:200],
        category=request.args.get("category", ""),
        action_form=ActionForm(),
    )


@bp.route("/portal/tickets/solved", methods=["POST"])
@merchant_required
def solved():
    """The merchant says an article answered the question: no ticket is opened."""
    if not ActionForm().validate_on_submit():
        abort(400)
    found = db.session.get(Article, request.form.get("article", type=int) or 0)
    if found is None or not found.published:
        abort(404)
    try:
        kb.deflect(
            current_user, found, request.form.get("subject", ""), request.form.get("category")
        )
    except ServiceError as error:
        flash(str(error.message), "danger")
        return redirect(url_for("portal.new_ticket"))
    flash(_("Glad it helped. No ticket was opened; you can still open one at any time."), "success")
    return redirect(url_for("help.article", slug=found.slug, solved=1))


@bp.route("/queue/tickets/<reference>/articles")
@staff_required
def agent_suggestions(reference: str):
    """The agent's article search beside a ticket (the panel is re-rendered in place)."""
    from supportit.web.access import get_ticket_for

    ticket = get_ticket_for(current_user, reference, conversation=False)  # its words will do
    query = request.args.get("q", "").strip()[:200]
    found = kb.search(query, limit=SUGGESTIONS) if query else kb.suggest_for_ticket(ticket)
    return render_template(
        "help/_agent_suggestions.html", ticket=ticket, suggestions=found, query=query
    )
