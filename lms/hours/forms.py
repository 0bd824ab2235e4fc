from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from lms.core.formatting import format_date
from lms.hours.models import CATEGORY_LABELS

CASE_CODE_HINT = ("Your own case number, such as C07 (needed for clinical sessions, and for lab practice with "
                  "intraoral work: the lab partner's code). Never a patient's name, initials, date of birth or "
                  "record number.")


class HourEntryForm(FlaskForm):
    entry_date = DateField("Date of the session", validators=[DataRequired(message="Enter the date of the session.")])
    # The duration in hours and minutes, as people say it; the ledger keeps whole minutes (see ``total_minutes``).
    duration_hours = IntegerField("Hours", validators=[
        Optional(), NumberRange(min=0, max=24, message="Enter 0 to 24 hours.")])
    duration_minutes = IntegerField("Minutes", validators=[
        Optional(), NumberRange(min=0, max=59, message="Enter 0 to 59 minutes.")])
    category = SelectField("Category", choices=list(CATEGORY_LABELS.items()))
    # The ledger checks the supervisor (exists, instructor or admin, enabled, not the trainee) with a plain message.
    supervisor_id = SelectField("Supervising instructor", coerce=int, choices=[], validate_choice=False)
    setting = StringField("Setting", validators=[
                              DataRequired(message="Describe the setting, for example 'University teaching clinic'."),
                              Length(max=200)],
                          description="For example: university teaching clinic, supervised lab.")
    case_code = StringField("Case number", validators=[
                                Optional(), Length(max=20),
                                Regexp(r"^[A-Za-z0-9-]*$", message="Letters, digits and dashes only.")],
                            description=CASE_CODE_HINT)
    intraoral_lab = BooleanField("Lab practice that included intraoral work on a lab partner")
    screening_id = SelectField("Pre-treatment screening (intraoral work only)", coerce=int, choices=[],
                               validate_choice=False)
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=2000)],
                          description="What you practised. Do not include anything that identifies a patient.")

    total_minutes: int | None = None

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if self.duration_hours.errors or self.duration_minutes.errors:
            return False
        hours, minutes = self.duration_hours.data, self.duration_minutes.data
        if hours is None and minutes is None:
            self.duration_hours.errors.append("Enter how long the session lasted, in hours and minutes.")
            return False
        total = (hours or 0) * 60 + (minutes or 0)
        if not 1 <= total <= 1440:
            self.duration_hours.errors.append("Enter a duration from 1 minute to 24 hours.")
            return False
        self.total_minutes = total
        return ok

    def set_duration(self, minutes: int) -> None:
        """Fill the two duration fields from a number of minutes (when correcting an entry)."""
        self.duration_hours.data, self.duration_minutes.data = divmod(minutes, 60)

    def __init__(self, *args, supervisors=(), screenings=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.supervisor_id.choices = [(0, "Choose an instructor")] + [(u.id, u.name) for u in supervisors]
        self.screening_id.choices = [(0, "None")] + [
            (s.id, f"{format_date(s.session_date)} · case {s.case_code or '(none)'} · {s.outcome}")
            for s in screenings]


class HourDecisionForm(FlaskForm):
    decision = SelectField("Decision", choices=[("approved", "Approve"), ("needs_info", "Needs information"),
                                                ("rejected", "Reject")])
    reason = TextAreaField("Reason", validators=[Optional(), Length(max=2000)])
