"""Saved views: a queue filter kept under a name, personal or shared with the team, listed in
the queue's sidebar with how many tickets it holds now."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from supportit.db import db
from supportit.i18n import lazy_gettext as _l
from supportit.models import SavedView, User
from supportit.services import queue
from supportit.services.errors import ServiceError

MAX_NAME = 80
MAX_PER_AGENT = 30


def normalise(query_string: str) -> str:
    """The filter part of a queue address, in a fixed order, without empty or unknown values
    (the page number, say): two ways of writing one filter give one saved view."""
    values = dict(parse_qsl(query_string.lstrip("?"), keep_blank_values=False))
    kept = [(key, values[key].strip()) for key in queue.FILTER_KEYS if values.get(key, "").strip()]
    return urlencode(kept)


def filter_of(view: SavedView) -> queue.QueueFilter:
    f, _ = queue.filter_from_args(MultiDict(parse_qsl(view.query)))
    return f


def visible_to(user: User) -> list[SavedView]:
    """The team's views and the agent's own, by name."""
    if not user.is_staff:
        return []
    return list(
        db.session.scalars(
            select(SavedView)
            .where(SavedView.visible_to(user))
            .order_by(func.lower(SavedView.name), SavedView.id)
        )
    )


def save(user: User, name: str, query_string: str, *, shared: bool) -> SavedView:
    if not user.is_staff:
        raise ServiceError(_l("Only support agents can do this."))
    name = " ".join((name or "").split())
    if not name:
        raise ServiceError(_l("Give the view a name."), field="name")
    if len(name) > MAX_NAME:
        raise ServiceError(
            _l("The name is too long (%(max)d characters at most).", max=MAX_NAME), field="name"
        )
    query = normalise(query_string)
    _, problems = queue.filter_from_args(MultiDict(parse_qsl(query)))
    if problems:
        raise ServiceError(
            _l("Some filters were not understood: %(names)s.", names=", ".join(problems))
        )
    mine = db.session.scalar(select(func.count()).where(SavedView.created_by_id == user.id))
    if mine >= MAX_PER_AGENT:
        raise ServiceError(_l("You have %(max)d saved views: delete one first.", max=MAX_PER_AGENT))
    view = SavedView(name=name, query=query, owner=None if shared else user, created_by=user)
    db.session.add(view)
    db.session.commit()
    return view


def delete(user: User, view: SavedView) -> None:
    if not view.editable_by(user):
        raise ServiceError(_l("Only its author or an administrator can delete a shared view."))
    db.session.delete(view)
    db.session.commit()


def get_for(user: User, view_id: int) -> SavedView | None:
    view = db.session.get(SavedView, view_id)
    return view if view is not None and view.usable_by(user) else None


def counts(user: User, views: list[SavedView]) -> dict[int, tuple[int, bool]]:
    """Each view's ticket count now: (count up to the search limit, whether there are more)."""
    return {view.id: queue.count(user, filter_of(view)) for view in views}
