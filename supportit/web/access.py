"""Access helpers: return the object the user may see, or abort with 404.

A merchant is never told that another merchant's ticket exists: not found and not theirs look
the same. Views never check permissions inline; they call these.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from flask import abort, flash, redirect, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from supportit.db import db
from supportit.i18n import gettext as _
from supportit.models import Attachment, Ticket, User
from supportit.services import tickets

P = ParamSpec("P")
R = TypeVar("R")


def get_ticket_for(user: User, reference: str, *, conversation: bool = True) -> Ticket:
    ticket = tickets.by_reference(reference, conversation=conversation)
    if ticket is None:
        abort(404)
    if user.is_merchant and ticket.merchant_id != user.merchant_id:
        abort(404)
    if not user.is_merchant and not user.is_staff:
        abort(404)
    return ticket


def merged_redirect(ticket: Ticket, endpoint: str) -> Response:
    """A merged duplicate's page leads to the ticket it lives on in (same merchant: a merge
    never crosses merchants)."""
    survivor = tickets.surviving(ticket)
    flash(
        _("%(old)s was merged into %(new)s.", old=ticket.reference, new=survivor.reference),
        "info",
    )
    return redirect(url_for(endpoint, reference=survivor.reference))


def get_attachment_for(user: User, ticket: Ticket, attachment_id: int) -> Attachment:
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or attachment.ticket_id != ticket.id:
        abort(404)
    # A file added to an internal note is as private as the note.
    if user.is_merchant and attachment.message is not None and attachment.message.internal:
        abort(404)
    return attachment


def merchant_required(view: Callable[P, R]) -> Callable[P, R]:
    @wraps(view)
    @login_required
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
        if not current_user.is_merchant:
            abort(404)
        return view(*args, **kwargs)

    return wrapped


def staff_required(view: Callable[P, R]) -> Callable[P, R]:
    @wraps(view)
    @login_required
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
        if not current_user.is_staff:
            abort(404)
        return view(*args, **kwargs)

    return wrapped


def admin_required(view: Callable[P, R]) -> Callable[P, R]:
    """Administration pages: agents are told they may not (403); anyone else sees nothing."""

    @wraps(view)
    @login_required
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
        if not current_user.is_staff:
            abort(404)
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapped
