"""The team lead's KPI page, with a CSV export of every table."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, Response, abort, render_template, request
from flask_login import current_user
from sqlalchemy import select

from supportit.db import db
from supportit.models import Category, Merchant
from supportit.services import audit, kpis
from supportit.web.access import staff_required

bp = Blueprint("kpis", __name__)


def _filters() -> kpis.Filters:
    today = date.today()
    try:
        start = date.fromisoformat(request.args.get("start") or "")
    except ValueError:
        start = today - timedelta(weeks=8)
    try:
        end = date.fromisoformat(request.args.get("end") or "")
    except ValueError:
        end = today
    if end < start:
        start, end = end, start
    try:
        category = Category(request.args["category"]) if request.args.get("category") else None
    except ValueError:
        category = None
    merchant = request.args.get("merchant", type=int)
    return kpis.Filters(start, end, category, merchant)


@bp.route("/queue/kpis")
@staff_required
def index():
    filters = _filters()
    tables = kpis.compute(filters)
    export = request.args.get("export")
    if export:
        table = tables.get(export) or abort(404)
        name = f"supportit-{export}-{filters.start}-{filters.end}.csv"
        audit.record("export", current_user, target=name, rows=len(table.rows))
        return Response(
            table.csv(),
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    weeks = kpis.weekly_series(tables["opened"])
    return render_template(
        "kpis/index.html",
        filters=filters,
        tables=tables,
        weeks=weeks,
        top=max((sum(counts.values()) for _, counts in weeks), default=0),
        merchants=list(db.session.scalars(select(Merchant).order_by(Merchant.name))),
        categories=list(Category),
    )
