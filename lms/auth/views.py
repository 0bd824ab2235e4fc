from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from lms.auth import operations
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


def _account_key():
    return "login:" + operations.normalize_email(request.form.get("email", ""))


def _sign_in(user) -> None:
    # A fresh session at sign-in: nothing from the anonymous session (including its id) carries over.
    session.clear()
    login_user(user)
    start_session()


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], error_message="Too many sign-in attempts. Please wait and try again.")
@limiter.limit(_login_limit, key_func=_account_key, methods=["POST"],
               error_message="Too many sign-in attempts for this account. Please wait and try again.")
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        user = operations.authenticate(form.email.data, form.password.data)
        if user is None:
            db.session.commit()  # keep the audit record of the failure
            flash(LOGIN_FAILED, "error")
            return render_template("auth/login.html", form=form), 401
        target = safe_next(url_for("main.dashboard"))
        db.session.commit()
        _sign_in(user)
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


@bp.route("/register", methods=["GET", "POST"])
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
