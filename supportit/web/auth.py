"""Logging in and out, the home redirect and the language switch."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from supportit.db import db
from supportit.i18n import LANGUAGES
from supportit.services import audit, users
from supportit.services.errors import ServiceError
from supportit.web.forms import LanguageForm, LoginForm

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site: an open redirect would make a fine phishing link."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def home_for(user) -> str:  # type: ignore[no-untyped-def]
    return url_for("queue.index") if user.is_staff else url_for("portal.index")


@bp.route("/")
def home():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    return redirect(url_for("auth.login"))


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = users.log_in(form.email.data, form.password.data)
        except ServiceError as error:
            # Same message whether the address exists or not: no account enumeration.
            form.password.errors = [str(error.message)]
        else:
            lang = session.get("lang")
            session.clear()  # a fresh session at login: nothing carried over from before
            if lang:
                session["lang"] = lang
            login_user(user, remember=form.remember.data)
            return redirect(_safe_next(request.args.get("next")) or home_for(user))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    audit.record("logout", current_user)
    logout_user()
    session.clear()
    flash(_("You are logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/language", methods=["POST"])
def language():
    form = LanguageForm()
    if form.validate_on_submit() and form.lang.data in LANGUAGES:
        session["lang"] = form.lang.data
        if current_user.is_authenticated:
            current_user.language = form.lang.data
            db.session.commit()
    return redirect(_safe_next(form.next.data) or url_for("auth.home"))
