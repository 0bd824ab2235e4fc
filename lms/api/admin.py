"""The admin page for board API keys: issue a key to a board organisation (shown once), list keys, revoke one."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from lms.api import keys
from lms.api.models import BoardApiKey
from lms.core.security import role_required
from lms.extensions import db

bp = Blueprint("api_keys", __name__, url_prefix="/admin/api-keys")


class IssueKeyForm(FlaskForm):
    organisation = StringField("Board organisation", validators=[
        DataRequired("Name the board organisation the key is for."), Length(max=keys.MAX_ORGANISATION_LENGTH)],
        description="For example: the licensing board's full name. Its checks are logged under this name.")


@bp.route("", methods=["GET", "POST"])
@role_required("admin")
def index():
    form = IssueKeyForm()
    new_key = None
    status = 200
    if form.validate_on_submit():
        try:
            record, new_key = keys.issue(form.organisation.data, actor=current_user)
        except keys.ApiKeyError as exc:
            db.session.rollback()
            form.organisation.errors.append(str(exc))
            status = 400
        else:
            db.session.commit()
            flash(f"Key {record.prefix}… issued to {record.organisation}. Copy it now: it is not shown again.",
                  "success")
            form = IssueKeyForm(formdata=None)
    elif form.is_submitted():
        status = 400
    # The key appears in this one response only (authenticated pages are sent with Cache-Control: no-store).
    return render_template("admin/api_keys.html", form=form, keys=keys.all_keys(), new_key=new_key,
                           revoke_form=FlaskForm()), status


@bp.post("/<int:key_id>/revoke")
@role_required("admin")
def revoke(key_id: int):
    record = db.get_or_404(BoardApiKey, key_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    try:
        keys.revoke(record, actor=current_user)
    except keys.ApiKeyError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("api_keys.index"))
    db.session.commit()
    flash(f"Key {record.prefix}… of {record.organisation} is revoked; requests with it are now refused.", "success")
    return redirect(url_for("api_keys.index"))
