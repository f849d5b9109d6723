"""Logging in and out, the home redirect and the language switch."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from supportit.db import db
from supportit.i18n import LANGUAGES
from supportit.i18n import gettext as _
from supportit.models import User
from supportit.services import api_tokens, audit, second_factor, users
from supportit.services.errors import ServiceError
from supportit.web.forms import (
    ActionForm,
    CodeForm,
    ForgotPasswordForm,
    LanguageForm,
    LoginForm,
    NewPasswordForm,
    report_service_error,
)

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
            target = _safe_next(request.args.get("next")) or home_for(user)
            if user.has_second_factor:
                session["pending_login"] = {
                    "user": user.get_id(),
                    "remember": bool(form.remember.data),
                    "next": target,
                    "at": int(time.time()),
                }
                return redirect(url_for("auth.login_code"))
            _start_session(user, bool(form.remember.data))
            return redirect(target)
    return render_template("auth/login.html", form=form)


def _start_session(user, remember: bool) -> None:  # type: ignore[no-untyped-def]
    lang = session.get("lang")
    session.clear()  # a fresh session at login: nothing carried over from before
    if lang:
        session["lang"] = lang
    login_user(user, remember=remember)


PENDING_SECONDS = 300  # time to type the code after the password


@bp.route("/login/code", methods=["GET", "POST"])
def login_code():
    """The second step of a login for accounts with a second factor."""
    pending = session.get("pending_login")
    user = None
    if isinstance(pending, dict) and int(time.time()) - int(pending.get("at", 0)) < PENDING_SECONDS:
        number, _sep, fingerprint = str(pending.get("user", "")).partition(":")
        user = db.session.get(User, int(number)) if number.isdigit() else None
        if user is not None and user.password_fingerprint != fingerprint:
            user = None
    if user is None:
        session.pop("pending_login", None)
        flash(_("Log in again: the code must follow the password within five minutes."), "info")
        return redirect(url_for("auth.login"))
    form = CodeForm()
    if form.validate_on_submit():
        try:
            users.complete_login(user, form.code.data)
        except ServiceError as error:
            report_service_error(form, error)
        else:
            _start_session(user, bool(pending.get("remember")))
            return redirect(str(pending.get("next") or home_for(user)))
    return render_template("auth/code.html", form=form), 400 if form.is_submitted() else 200


@bp.route("/account/security", methods=["GET", "POST"])
@login_required
def security():
    """Turn the second factor on (scan, then confirm a code) or off (with a code)."""
    if not current_user.is_staff:
        abort(404)
    form = CodeForm()
    if current_user.has_second_factor:
        if form.validate_on_submit():
            try:
                second_factor.disable(current_user, form.code.data)
            except ServiceError as error:
                report_service_error(form, error)
            else:
                flash(_("Second factor turned off."), "success")
                return redirect(url_for("auth.security"))
        return render_template("auth/security.html", form=form, enabled=True)
    # The secret waits for its confirming code in the session, sealed: a session cookie is
    # signed, not encrypted.
    sealed = session.get("totp_pending")
    secret = second_factor.open_pending(current_user, sealed) if isinstance(sealed, str) else None
    if secret is None or request.method == "GET":
        secret = second_factor.new_secret()
        session["totp_pending"] = second_factor.seal_pending(current_user, secret)
    if form.validate_on_submit():
        try:
            second_factor.enable(current_user, secret, form.code.data)
        except ServiceError as error:
            report_service_error(form, error)
        else:
            session.pop("totp_pending", None)
            flash(_("Second factor on: each login now asks for a code."), "success")
            return redirect(url_for("auth.security"))
    uri = second_factor.provisioning_uri(current_user, secret)
    return render_template(
        "auth/security.html",
        form=form,
        enabled=False,
        secret=secret,
        qr=second_factor.qr_data_uri(uri),
    ), 400 if form.is_submitted() else 200


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


@bp.route("/account/tokens", methods=["GET", "POST"])
@login_required
def api_tokens_page():
    """Personal API tokens: create one (shown once), see them, revoke them."""
    form = ActionForm()
    created = None
    status = 200
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        try:
            _token, created = api_tokens.create(
                current_user, request.form.get("name", ""), request.form.getlist("scopes")
            )
        except ServiceError as error:
            db.session.rollback()
            flash(str(error.message), "danger")
            status = 400
    return render_template(
        "auth/tokens.html",
        tokens=api_tokens.tokens_of(current_user),
        scopes=api_tokens.allowed_scopes(current_user),
        scope_labels=api_tokens.SCOPE_LABELS,
        created=created,
        action_form=form,
    ), status


@bp.route("/account/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke_api_token(token_id: int):
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        api_tokens.revoke(current_user, token_id)
    except LookupError:
        abort(404)
    flash(_("Token revoked: scripts using it are refused from now on."), "success")
    return redirect(url_for("auth.api_tokens_page"))


@bp.route("/password/forgot", methods=["GET", "POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        users.request_password_reset(form.email.data)
        flash(
            _(
                "If an account uses this address, a link to choose a new password is on its "
                "way. It works once, within an hour."
            ),
            "info",
        )
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot.html", form=form), 400 if form.is_submitted() else 200


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    try:
        user = users.user_for_reset(token)
    except ServiceError as error:
        flash(str(error.message), "danger")
        return redirect(url_for("auth.forgot_password"))
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            users.reset_password(token, form.password.data)
        except ServiceError as error:
            report_service_error(form, error)
        else:
            logout_user()
            session.clear()
            flash(_("Your password is changed. Log in with it."), "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/reset.html", form=form, user=user), (
        400 if form.is_submitted() else 200
    )
