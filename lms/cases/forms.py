from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from lms.cases.measures import MEASURES, TIMEPOINTS
from lms.cases.models import AGE_BAND_LABELS, CONDITION_LABELS
from lms.cases.operations import LETTER_RECIPIENTS

NO_IDENTIFIERS = "Never a patient's name, initials, date of birth, contact details or record number."


class CaseForm(FlaskForm):
    code = StringField("Case number", validators=[DataRequired(message="Enter your own case number, such as C07."),
                                                  Length(max=20)],
                       description="Your own case number, such as C07. " + NO_IDENTIFIERS)
    condition = SelectField("Condition category", choices=[(k, v) for k, v in CONDITION_LABELS.items()
                                                           if k != "unspecified"])
    age_band = SelectField("Age band", choices=list(AGE_BAND_LABELS.items()))
    consent_recorded = BooleanField("Written consent for treatment and for de-identified use of the outcomes is "
                                    "recorded")
    consent_on = DateField("Date consent was recorded", validators=[Optional()])
    agreement_id = SelectField("Dental collaborator (Route N)", coerce=int, choices=[], validate_choice=False)
    summary = TextAreaField("Case summary", validators=[Optional(), Length(max=2000)],
                            description="Presenting problem and goals, in general terms. " + NO_IDENTIFIERS)

    def __init__(self, *args, agreements=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.agreement_id.choices = [(0, "None (Route D, or not yet)")] + [
            (a.id, f"{a.dentist_name} ({a.valid_from.isoformat()} to {a.valid_until.isoformat()}, {a.status})")
            for a in agreements]


class MeasureForm(FlaskForm):
    measure = SelectField("Measure", choices=[(k, m.label) for k, m in MEASURES.items()])
    timepoint = SelectField("Time point", choices=list(TIMEPOINTS.items()))
    measured_on = DateField("Date measured", validators=[DataRequired(message="Enter the date of the measurement.")])
    value = StringField("Value (mouth opening in mm, pain 0-10, or the GTQ 2 total)", validators=[Length(max=20)])
    items = StringField("Questionnaire item answers, in order, separated by commas",
                        validators=[Length(max=200)],
                        description="JFLS-8: 8 answers 0-10 (leave one empty, e.g. '3,,4', if it was not answered). "
                                    "OHIP-14: 14 answers 0-4. EAT-10: 10 answers 0-4.")
    assisted = SelectField("Mouth opening: assisted or unassisted",
                           choices=[("unassisted", "Unassisted"), ("assisted", "Assisted")])
    overlap = SelectField("Mouth opening: incisor overlap",
                          choices=[("overlap_included", "Vertical incisor overlap included"),
                                   ("overlap_not_included", "Overlap not included")])
    instrument = SelectField("Mouth opening: instrument", choices=[("ruler", "Ruler"), ("calipers", "Calipers")])
    method_note = TextAreaField("Method note", validators=[Optional(), Length(max=1000)],
                                description="How it was measured (position, best of two, form version). "
                                            + NO_IDENTIFIERS)
    corrects_id = HiddenField()
    reason = StringField("Reason for the correction", validators=[Optional(), Length(max=500)])


class LetterForm(FlaskForm):
    sent_on = DateField("Date sent", validators=[DataRequired(message="Enter the date the letter was sent.")])
    recipient = SelectField("Sent to (profession)", choices=list(LETTER_RECIPIENTS.items()))
    reference = StringField("Letter reference", validators=[Optional(), Length(max=200)],
                            description="Your own reference, such as 'C07 letter 1'. " + NO_IDENTIFIERS)
    summary = TextAreaField("What the letter reported or asked", validators=[Optional(), Length(max=2000)],
                            description=NO_IDENTIFIERS)
