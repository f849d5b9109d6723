"""The satisfaction survey's mail links: one click on a score rates the ticket, no sign-in."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request

from supportit.services import satisfaction
from supportit.services.errors import ServiceError
from supportit.web.forms import ActionForm

bp = Blueprint("survey", __name__)


def _survey(token: str):  # type: ignore[no-untyped-def]
    survey = satisfaction.by_token(token)
    if survey is None:
        abort(404)
    return survey


@bp.route("/rate/<token>", methods=["GET", "POST"])
def rate(token: str):
    """GET shows the score clicked in the mail, and the page's script sends it at once: a mail
    scanner that follows links (and runs no script) never rates a ticket. POST records it."""
    survey = _survey(token)
    error = None
    if request.method == "POST" and survey.score is None:
        if not ActionForm().validate_on_submit():
            abort(400)
        try:
            satisfaction.rate(survey, request.form.get("score"), request.form.get("comment"))
        except ServiceError as failure:
            error = str(failure.message)
    return _page(survey, token, error, chosen=request.values.get("score", type=int))


@bp.route("/rate/<token>/comment", methods=["POST"])
def comment(token: str):
    survey = _survey(token)
    if not ActionForm().validate_on_submit():
        abort(400)
    error = None
    try:
        satisfaction.add_comment(survey, request.form.get("comment"))
    except ServiceError as failure:
        error = str(failure.message)
    return _page(survey, token, error)


def _page(survey, token: str, error: str | None, chosen: int | None = None):  # type: ignore[no-untyped-def]
    """The survey as it stands: the scores to choose from, or the thanks and the comment box."""
    return render_template(
        "survey/rate.html",
        survey=survey,
        token=token,
        chosen=chosen if chosen in satisfaction.SCORES else None,
        error=error,
        form=ActionForm(),
    ), (400 if error else 200)
