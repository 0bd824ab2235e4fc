from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from lms.cases.measures import MEASURES, TIMEPOINTS
from lms.cases.models import AGE_BAND_LABELS, CONDITION_LABELS
from lms.cases.operations import LETTER_RECIPIENTS

NO_IDENTIFIERS = _l("Never a patient's name, initials, date of birth, contact details or record number.")


class CaseForm(FlaskForm):
    code = StringField(_l("Case number"),
                       validators=[DataRequired(message=_l("Enter your own case number, such as C07.")),
                                   Length(max=20)],
                       description=_l("Your own case number, such as C07. Never a patient's name, initials, date of "
                                      "birth, contact details or record number."))
    condition = SelectField(_l("Condition category"), choices=[(k, v) for k, v in CONDITION_LABELS.items()
                                                           if k != "unspecified"])
    age_band = SelectField(_l("Age band"), choices=list(AGE_BAND_LABELS.items()))
    consent_recorded = BooleanField(_l("Written consent for treatment and for de-identified use of the outcomes "
                                       "is recorded"))
    consent_on = DateField(_l("Date consent was recorded"), validators=[Optional()])
    agreement_id = SelectField(_l("Dental collaborator (Route N)"), coerce=int, choices=[], validate_choice=False)
    summary = TextAreaField(_l("Case summary"), validators=[Optional(), Length(max=2000)],
                            description=_l("Presenting problem and goals, in general terms. Never a patient's name, "
                                           "initials, date of birth, contact details or record number."))

    def __init__(self, *args, agreements=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.agreement_id.choices = [(0, _("None (Route D, or not yet)"))] + [
            (a.id, f"{a.dentist_name} ({a.valid_from.isoformat()} to {a.valid_until.isoformat()}, {a.status})")
            for a in agreements]


class MeasureForm(FlaskForm):
    measure = SelectField(_l("Measure"), choices=[(k, m.label) for k, m in MEASURES.items()])
    timepoint = SelectField(_l("Time point"), choices=list(TIMEPOINTS.items()))
    measured_on = DateField(_l("Date measured"),
                            validators=[DataRequired(message=_l("Enter the date of the measurement."))])
    value = StringField(_l("Value (mouth opening in mm, pain 0-10, or the GTQ 2 total)"), validators=[Length(max=20)])
    items = StringField(_l("Questionnaire item answers, in order, separated by commas"),
                        validators=[Length(max=200)],
                        description=_l("JFLS-8: 8 answers 0-10 (leave one empty, e.g. '3,,4', if it was not "
                                       "answered). OHIP-14: 14 answers 0-4. EAT-10: 10 answers 0-4."))
    assisted = SelectField(_l("Mouth opening: assisted or unassisted"),
                           choices=[("unassisted", _l("Unassisted")), ("assisted", _l("Assisted"))])
    overlap = SelectField(_l("Mouth opening: incisor overlap"),
                          choices=[("overlap_included", _l("Vertical incisor overlap included")),
                                   ("overlap_not_included", _l("Overlap not included"))])
    instrument = SelectField(_l("Mouth opening: instrument"),
                             choices=[("ruler", _l("Ruler")), ("calipers", _l("Calipers"))])
    method_note = TextAreaField(_l("Method note"), validators=[Optional(), Length(max=1000)],
                                description=_l("How it was measured (position, best of two, form version). "
                                               "Never a patient's name, initials, date of birth, contact "
                                               "details or record number."))
    corrects_id = HiddenField()
    reason = StringField(_l("Reason for the correction"), validators=[Optional(), Length(max=500)])


class LetterForm(FlaskForm):
    sent_on = DateField(_l("Date sent"), validators=[DataRequired(message=_l("Enter the date the letter was sent."))])
    recipient = SelectField(_l("Sent to (profession)"), choices=list(LETTER_RECIPIENTS.items()))
    reference = StringField(_l("Letter reference"), validators=[Optional(), Length(max=200)],
                            description=_l("Your own reference, such as 'C07 letter 1'. Never a patient's name, "
                                           "initials, date of birth, contact details or record number."))
    summary = TextAreaField(_l("What the letter reported or asked"), validators=[Optional(), Length(max=2000)],
                            description=NO_IDENTIFIERS)
