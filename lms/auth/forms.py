import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from lms.auth.operations import MAX_PASSWORD_LENGTH, password_problem


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)])
    next = HiddenField()


# A structural check only: one @, no spaces or control characters, a dotted domain. WTForms' Email() validator would
# need the separate email_validator package; whether the address works is proven by the verification email.
_EMAIL = re.compile(r"[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f.]+")


def _check_email(form, field):
    if not _EMAIL.fullmatch((field.data or "").strip()):
        raise ValidationError(_l("Enter a valid email address, like name@example.org."))


def _check_password(form, field):
    problem = password_problem(field.data or "")
    if problem:
        raise ValidationError(problem)


class RegisterForm(FlaskForm):
    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=200)])
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254), _check_email])
    password = PasswordField(_l("Password"), validators=[DataRequired(), _check_password],
                             description=_l("At least 12 characters. Long passphrases are welcome."))
    confirm = PasswordField(_l("Repeat password"),
                            validators=[DataRequired(), EqualTo("password", _l("The passwords differ."))])


class ChangePasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)])
    password = PasswordField(_l("New password"), validators=[DataRequired(), _check_password])
    confirm = PasswordField(_l("Repeat new password"),
                            validators=[DataRequired(), EqualTo("password", _l("The passwords differ."))])


class CreateUserForm(FlaskForm):
    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=200)])
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254), _check_email])
    role = SelectField(_l("Role"), choices=[("instructor", "Instructor"), ("board", "Licensing board"),
                                        ("admin", "Administrator"), ("trainee", "Trainee")])
    profession = SelectField(_l("Profession (instructors)"), choices=[], validate_choice=True)
    password = PasswordField(_l("Initial password"), validators=[DataRequired(), _check_password])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from lms.providers.professions import profession_choices

        self.profession.choices = [("", "—")] + list(profession_choices())


class ForgotPasswordForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254), _check_email])


class ResetPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(), _check_password],
                             description=_l("At least 12 characters. Long passphrases are welcome."))
    confirm = PasswordField(_l("Repeat new password"),
                            validators=[DataRequired(), EqualTo("password", _l("The passwords differ."))])


class ChangeEmailForm(FlaskForm):
    new_email = EmailField(_l("New email address"), validators=[DataRequired(), Length(max=254), _check_email])
    email_password = PasswordField(_l("Your password"), validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)])
