from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from lms.auth.operations import MAX_PASSWORD_LENGTH, password_problem


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)])
    next = HiddenField()


def _check_password(form, field):
    from wtforms.validators import ValidationError

    problem = password_problem(field.data or "")
    if problem:
        raise ValidationError(problem)


class RegisterForm(FlaskForm):
    name = StringField("Full name", validators=[DataRequired(), Length(max=200)])
    email = EmailField("Email", validators=[DataRequired(), Email(check_deliverability=False), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), _check_password],
                             description="At least 12 characters. Long passphrases are welcome.")
    confirm = PasswordField("Repeat password", validators=[DataRequired(), EqualTo("password", "The passwords differ.")])


class ChangePasswordForm(FlaskForm):
    current = PasswordField("Current password", validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)])
    password = PasswordField("New password", validators=[DataRequired(), _check_password])
    confirm = PasswordField("Repeat new password",
                            validators=[DataRequired(), EqualTo("password", "The passwords differ.")])


class CreateUserForm(FlaskForm):
    name = StringField("Full name", validators=[DataRequired(), Length(max=200)])
    email = EmailField("Email", validators=[DataRequired(), Email(check_deliverability=False), Length(max=254)])
    role = SelectField("Role", choices=[("instructor", "Instructor"), ("board", "Licensing board"),
                                        ("admin", "Administrator"), ("trainee", "Trainee")])
    profession = SelectField("Profession (instructors)", choices=[], validate_choice=True)
    password = PasswordField("Initial password", validators=[DataRequired(), _check_password])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from lms.providers.professions import profession_choices

        self.profession.choices = [("", "—")] + list(profession_choices())
