from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from lms.auth import operations, throttle
from lms.auth.forms import ChangePasswordForm, LoginForm, RegisterForm
from lms.auth.models import Role
from lms.auth.sessions import start_session
from lms.core.security import safe_next
from lms.extensions import db, limiter

bp = Blueprint("auth", __name__)

LOGIN_FAILED = "That email and password do not match an active account."


def _login_limit():
    from flask import current_app

    return current_app.config["LOGIN_RATE_LIMIT"]


def _failed(response) -> bool:
    """Only failed sign-ins count against an address: a class signing in behind one clinic network is not limited
    by its own successes."""
    return response.status_code == 401


def _sign_in(user) -> None:
    # A fresh session at sign-in: nothing from the anonymous session (including its id) carries over.
    session.clear()
    login_user(user)
    start_session()


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], deduct_when=_failed,
               error_message="Too many failed sign-ins from this network. Please wait and try again.")
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        wait = throttle.seconds_to_wait(form.email.data)
        if wait:
            flash(f"Several sign-ins to this account failed just now. Please wait {wait} seconds and try again.",
                  "error")
            return render_template("auth/login.html", form=form), 429, {"Retry-After": str(wait)}
        user = operations.authenticate(form.email.data, form.password.data)
        if user is None:
            throttle.record_failure(form.email.data)
            db.session.commit()  # keep the audit record of the failure
            flash(LOGIN_FAILED, "error")
            return render_template("auth/login.html", form=form), 401
        failures = throttle.clear(form.email.data)
        target = safe_next(url_for("main.dashboard"))
        db.session.commit()
        _sign_in(user)
        if failures > throttle.FREE_FAILURES:
            flash(f"Since your last sign-in, {failures} attempts to sign in to your account failed. If that was not "
                  "you, change your password on your account page.", "error")
        return redirect(target)
    return render_template("auth/login.html", form=form), 400 if request.method == "POST" else 200


@bp.post("/logout")
@login_required
def logout():
    operations.sign_out(current_user._get_current_object())
    db.session.commit()
    logout_user()
    session.clear()
    flash("You have signed out.", "info")
    return redirect(url_for("main.index"))


def _register_limit():
    from flask import current_app

    return current_app.config["REGISTER_RATE_LIMIT"]


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(_register_limit, methods=["POST"],
               error_message="Too many registrations from this network. Please wait and try again.")
def register():
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user = operations.create_user(email=form.email.data, name=form.name.data, role=Role.TRAINEE.value,
                                          password=form.password.data)
        except operations.AccountError as exc:
            db.session.rollback()
            form.email.errors.append(str(exc))
            return render_template("auth/register.html", form=form), 400
        db.session.commit()
        _sign_in(user)
        flash("Welcome to OroCert. Start by completing your provider profile.", "success")
        return redirect(url_for("providers.profile"))
    return render_template("auth/register.html", form=form), 400 if request.method == "POST" else 200


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            operations.change_password(current_user, form.current.data, form.password.data)
        except operations.AccountError as exc:
            db.session.rollback()
            form.current.errors.append(str(exc))
            return render_template("auth/account.html", form=form), 400
        db.session.commit()
        _sign_in(current_user._get_current_object())
        flash("Your password was changed. Other sessions have been signed out.", "success")
        return redirect(url_for("auth.account"))
    return render_template("auth/account.html", form=form), 400 if request.method == "POST" else 200
