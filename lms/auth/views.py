from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm

from lms.auth import email_flows, operations, throttle
from lms.auth.forms import (
    ChangeEmailForm,
    ChangePasswordForm,
    ForgotPasswordForm,
    LoginForm,
    RegisterForm,
    ResetPasswordForm,
)
from lms.auth.sessions import start_session
from lms.core import i18n
from lms.core.i18n import N_
from lms.core.security import safe_next
from lms.core.views import act_and_redirect
from lms.extensions import db, limiter

bp = Blueprint("auth", __name__)

LOGIN_FAILED = N_("That email and password do not match an active account.")


def _login_limit():
    from flask import current_app

    return current_app.config["LOGIN_RATE_LIMIT"]


def _account_key():
    return "login:" + operations.normalize_email(request.form.get("email", ""))


def _failed(response) -> bool:
    """Only failed sign-ins count against an address: a class signing in behind one clinic network is not limited
    by its own successes."""
    return response.status_code == 401


def _sign_in(user) -> None:
    # A fresh session at sign-in: nothing from the anonymous session (including its id) carries over, except the
    # language the visitor switched to.
    language = session.get(i18n.SESSION_KEY)
    session.clear()
    if language:
        session[i18n.SESSION_KEY] = language
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
            flash(_("Several sign-ins to this account failed just now. Please wait %(wait)s seconds and try again.",
                    wait=wait), "error")
            return render_template("auth/login.html", form=form), 429, {"Retry-After": str(wait)}
        user = operations.authenticate(form.email.data, form.password.data)
        if user is None:
            throttle.record_failure(form.email.data)
            db.session.commit()  # keep the audit record of the failure
            flash(_(LOGIN_FAILED), "error")
            return render_template("auth/login.html", form=form), 401
        failures = throttle.clear(form.email.data)
        target = safe_next(url_for("main.dashboard"))
        db.session.commit()
        _sign_in(user)
        if failures > throttle.FREE_FAILURES:
            flash(_("Since your last sign-in, %(failures)s attempts to sign in to your account failed. If that was "
                    "not you, change your password on your account page.", failures=failures), "error")
        return redirect(target)
    return render_template("auth/login.html", form=form), 400 if request.method == "POST" else 200


@bp.post("/logout")
@login_required
def logout():
    operations.sign_out(current_user._get_current_object())
    db.session.commit()
    language = i18n.current_language()
    logout_user()
    session.clear()
    session[i18n.SESSION_KEY] = language  # the next pages stay in the language the user was reading
    flash(_("You have signed out."), "info")
    return redirect(url_for("main.index"))


CHECK_EMAIL = N_("Check your email: we sent a message to %(email)s. Follow the link in it to confirm your address, "
                 "then sign in.")


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
            email_flows.register(email=form.email.data, name=form.name.data, password=form.password.data)
        except operations.AccountError as exc:
            db.session.rollback()
            form.email.errors.append(str(exc))
            return render_template("auth/register.html", form=form), 400
        db.session.commit()
        # The same answer whether or not the address already had an account.
        flash(_(CHECK_EMAIL, email=operations.normalize_email(form.email.data)), "success")
        return redirect(url_for("auth.login"))
    return render_template("auth/register.html", form=form), 400 if request.method == "POST" else 200


RESET_SENT = N_("If an account uses %(email)s, we have sent it a link to choose a new password. The link works for "
                "one hour. Nothing arrived? Check the spam folder, or ask again in a few minutes.")


@bp.route("/forgot-password", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], error_message="Too many requests. Please wait and try again.")
@limiter.limit(_login_limit, key_func=lambda: "reset:" + _account_key(), methods=["POST"],
               error_message="Too many requests for this address. Please wait and try again.")
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        email_flows.request_password_reset(form.email.data)
        db.session.commit()
        flash(_(RESET_SENT, email=operations.normalize_email(form.email.data)), "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot.html", form=form), 400 if request.method == "POST" else 200


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
def reset_password(token):
    try:
        email_flows.user_for_reset_token(token)
    except email_flows.TokenError as exc:
        db.session.rollback()
        return render_template("auth/link_problem.html", message=str(exc)), 400
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            email_flows.reset_password(token, form.password.data)
        except (operations.AccountError, email_flows.TokenError) as exc:
            db.session.rollback()
            form.password.errors.append(str(exc))
            return render_template("auth/reset.html", form=form), 400
        db.session.commit()
        if current_user.is_authenticated:
            logout_user()
        session.clear()
        flash(_("Your password was changed and every session was signed out. Sign in with your new password."),
              "success")
        return redirect(url_for("auth.login"))
    return render_template("auth/reset.html", form=form), 400 if request.method == "POST" else 200


def _confirm_page(title: str, text: str, button: str):
    """Links in emails open a page with a button: mail scanners that fetch links change nothing."""
    return render_template("auth/confirm_link.html", title=title, text=text, button=button)


@bp.route("/verify-email/<token>", methods=["GET", "POST"])
def verify_email(token):
    try:
        email_flows.verify_email(token, apply=request.method == "POST")
    except email_flows.TokenError as exc:
        db.session.rollback()
        return render_template("auth/link_problem.html", message=str(exc)), 400
    if request.method == "GET":
        return _confirm_page(_("Confirm your email address"), _("Confirm that this address is yours."), _("Confirm"))
    db.session.commit()
    flash(_("Thank you: your email address is verified."), "success")
    return redirect(url_for("main.dashboard") if current_user.is_authenticated else url_for("auth.login"))


@bp.post("/account/verification")
@login_required
def resend_verification():
    try:
        email_flows.send_verification(current_user._get_current_object())
    except operations.AccountError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("auth.account"))
    db.session.commit()
    flash(_("We sent a new link to %(email)s.", email=current_user.email), "success")
    return redirect(url_for("auth.account"))


@bp.post("/account/time-zone")
@login_required
def set_time_zone():
    if not FlaskForm().validate_on_submit():
        abort(400)
    zone_name = request.form.get("time_zone", "")[:64]
    return act_and_redirect(
        lambda: operations.set_time_zone(current_user, zone_name),
        target=url_for("auth.account"),
        success=lambda _: f"Times are now shown in {current_user.time_zone}.",
    )


@bp.post("/account/email")
@login_required
def change_email():
    email_form = ChangeEmailForm()
    if email_form.validate_on_submit():
        try:
            new = email_flows.request_email_change(current_user._get_current_object(),
                                                   password=email_form.email_password.data,
                                                   new_email=email_form.new_email.data)
        except operations.AccountError as exc:
            db.session.rollback()
            email_form.email_password.errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("We sent a confirmation link to %(email)s. Your address changes when you follow it.", email=new),
                  "success")
            return redirect(url_for("auth.account"))
    return render_template("auth/account.html", form=ChangePasswordForm(formdata=None), email_form=email_form), 400


@bp.route("/account/email/<token>", methods=["GET", "POST"])
def confirm_email_change(token):
    try:
        user, new = email_flows.confirm_email_change(token, apply=request.method == "POST")
    except email_flows.TokenError as exc:
        db.session.rollback()
        return render_template("auth/link_problem.html", message=str(exc)), 400
    if request.method == "GET":
        return _confirm_page(_("Confirm your new email address"),
                             _("Use %(email)s for your OroCert account from now on.", email=new),
                             _("Confirm the change"))
    db.session.commit()
    flash(_("Your email address is now %(email)s.", email=user.email), "success")
    return redirect(url_for("auth.account") if current_user.is_authenticated else url_for("auth.login"))


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
            return render_template("auth/account.html", form=form, email_form=ChangeEmailForm(formdata=None)), 400
        db.session.commit()
        _sign_in(current_user._get_current_object())
        flash(_("Your password was changed. Other sessions have been signed out."), "success")
        return redirect(url_for("auth.account"))
    return render_template("auth/account.html", form=form, email_form=ChangeEmailForm(formdata=None)), \
        400 if request.method == "POST" else 200


@bp.post("/account/language")
@login_required
def set_language():
    try:
        i18n.set_user_locale(current_user, request.form.get("locale"))
    except ValueError as exc:
        flash(str(exc), "error")
        return redirect(url_for("auth.account") + "#language")
    db.session.commit()
    return redirect(safe_next(url_for("auth.account")))
