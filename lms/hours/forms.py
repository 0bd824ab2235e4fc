from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, IntegerField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from lms.core.formatting import format_date
from lms.hours.models import CATEGORY_LABELS

CASE_CODE_HINT = _l("Your own case number, such as C07 (needed for clinical sessions, and for lab practice with "
                    "intraoral work: the lab partner's code). Never a patient's name, initials, date of birth or "
                    "record number.")


class HourEntryForm(FlaskForm):
    entry_date = DateField(_l("Date of the session"),
                           validators=[DataRequired(message=_l("Enter the date of the session."))])
    # The duration in hours and minutes, as people say it; the ledger keeps whole minutes (see ``total_minutes``).
    duration_hours = IntegerField(_l("Hours"), validators=[
        Optional(), NumberRange(min=0, max=24, message=_l("Enter 0 to 24 hours."))])
    duration_minutes = IntegerField(_l("Minutes"), validators=[
        Optional(), NumberRange(min=0, max=59, message=_l("Enter 0 to 59 minutes."))])
    category = SelectField(_l("Category"), choices=[(k, _l(v)) for k, v in CATEGORY_LABELS.items()])
    # The ledger checks the supervisor (exists, instructor or admin, enabled, not the trainee) with a plain message.
    supervisor_id = SelectField(_l("Supervising instructor"), coerce=int, choices=[], validate_choice=False)
    setting = StringField(_l("Setting"), validators=[
                              DataRequired(message=_l("Describe the setting, for example 'University teaching "
                                                      "clinic'.")),
                              Length(max=200)],
                          description=_l("For example: university teaching clinic, supervised lab."))
    case_code = StringField(_l("Case number"), validators=[
                                Optional(), Length(max=20),
                                Regexp(r"^[A-Za-z0-9-]*$", message=_l("Letters, digits and dashes only."))],
                            description=CASE_CODE_HINT)
    intraoral_lab = BooleanField(_l("Lab practice that included intraoral work on a lab partner"))
    screening_id = SelectField(_l("Pre-treatment screening (intraoral work only)"), coerce=int, choices=[],
                               validate_choice=False)
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=2000)],
                          description=_l("What you practised. Do not include anything that identifies a patient."))

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
        self.supervisor_id.choices = [(0, _l("Choose an instructor"))] + [(u.id, u.name) for u in supervisors]
        self.screening_id.choices = [(0, _l("None"))] + [
            (s.id, f"{format_date(s.session_date)} · case {s.case_code or '(none)'} · {s.outcome}")
            for s in screenings]


class HourDecisionForm(FlaskForm):
    decision = SelectField(_l("Decision"), choices=[("approved", "Approve"), ("needs_info", "Needs information"),
                                                ("rejected", "Reject")])
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=2000)])


class AttendanceForm(FlaskForm):
    module_id = SelectField("Module", coerce=int, choices=[], validate_choice=False)
    session_date = DateField("Date of the session", validators=[DataRequired(message="Enter the date of the session.")])
    minutes = IntegerField("Duration in minutes",
                           validators=[InputRequired(message="Enter the duration in minutes."),
                                       NumberRange(min=1, max=1440, message="Enter 1 to 1440 minutes.")])
    setting = StringField("Setting", validators=[
                              DataRequired(message="Describe where the session took place."), Length(max=200)],
                          description="For example: skills lab, room 2.")
    attendees = SelectMultipleField("Attendees", coerce=int, choices=[], validate_choice=False,
                                    widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())

    def __init__(self, *args, modules=(), trainees=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.module_id.choices = [(0, "Choose a module")] + [(m.id, f"{m.module_key}. {m.title}") for m in modules]
        self.attendees.choices = [(u.id, u.name) for u in trainees]
