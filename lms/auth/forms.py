import re

from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from lms.auth.operations import MAX_PASSWORD_LENGTH, password_problem


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)])
    next = HiddenField()


# A structural check only: one @, no spaces or control characters, a dotted domain. WTForms' Email() validator would
# need the separate email_validator package; whether the address works is proven by the verification email.
_EMAIL = re.compile(r"[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f.]+")


def _check_email(form, field):
    if not _EMAIL.fullmatch((field.data or "").strip()):
        raise ValidationError("Enter a valid email address, like name@example.org.")


def _check_password(form, field):
    problem = password_problem(field.data or "")
    if problem:
        raise ValidationError(problem)


class RegisterForm(FlaskForm):
    name = StringField("Full name", validators=[DataRequired(), Length(max=200)])
    email = EmailField("Email", validators=[DataRequired(), Length(max=254), _check_email])
    password = PasswordField("Password", validators=[DataRequired(), _check_password],
                             description="At least 12 characters. Long passphrases are welcome.")
    confirm = PasswordField("Repeat password",
                            validators=[DataRequired(), EqualTo("password", "The passwords differ.")])


class ChangePasswordForm(FlaskForm):
    current = PasswordField("Current password", validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)])
    password = PasswordField("New password", validators=[DataRequired(), _check_password])
    confirm = PasswordField("Repeat new password",
                            validators=[DataRequired(), EqualTo("password", "The passwords differ.")])


class CreateUserForm(FlaskForm):
    name = StringField("Full name", validators=[DataRequired(), Length(max=200)])
    email = EmailField("Email", validators=[DataRequired(), Length(max=254), _check_email])
    role = SelectField("Role", choices=[("instructor", "Instructor"), ("board", "Licensing board"),
                                        ("admin", "Administrator"), ("trainee", "Trainee")])
    profession = SelectField("Profession (instructors)", choices=[], validate_choice=True)
    password = PasswordField("Initial password", validators=[DataRequired(), _check_password])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from lms.providers.professions import profession_choices

        self.profession.choices = [("", "—")] + list(profession_choices())


class ForgotPasswordForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254), _check_email])


class ResetPasswordForm(FlaskForm):
    password = PasswordField("New password", validators=[DataRequired(), _check_password],
                             description="At least 12 characters. Long passphrases are welcome.")
    confirm = PasswordField("Repeat new password",
                            validators=[DataRequired(), EqualTo("password", "The passwords differ.")])


class ChangeEmailForm(FlaskForm):
    new_email = EmailField("New email address", validators=[DataRequired(), Length(max=254), _check_email])
    email_password = PasswordField("Your password", validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)])
