from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DateField, DecimalField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from lms.jurisdictions.data import JURISDICTIONS
from lms.providers.professions import profession_choices


class ProfileForm(FlaskForm):
    legal_name = StringField(_l("Legal name"), validators=[DataRequired(), Length(max=200)],
                             description=_l("Exactly as it should appear on your certificate."))
    profession = SelectField(_l("Profession"), choices=[])
    license_number = StringField(_l("License or registration number"), validators=[DataRequired(), Length(max=60)])
    license_expires_on = DateField(_l("License expiry date"), validators=[Optional()])
    jurisdiction = SelectField(_l("Issuing jurisdiction"), choices=[])
    cpr_expires_on = DateField(_l("CPR/BLS card expiry date"), validators=[Optional()],
                               description=_l("Current CPR or BLS, completed in person."))
    has_intraoral_endorsement = BooleanField(_l("My license carries my jurisdiction's intraoral massage endorsement "
                                             "(where one exists, e.g. Washington)."))
    licence_evidence = FileField(_l("Evidence of your license (PDF, PNG or JPEG, at most 5 MB)"),
                                 description=_l("A copy of the license or the licensing body's register entry. An "
                                             "administrator checks the license with the licensing body; changing "
                                             "profession, jurisdiction, number, expiry or endorsement needs a new "
                                             "check."))
    infection_control_ack = BooleanField(_l("I have read and will follow the infection-control and glove protocol "
                                            "(fresh gloves for every client contact; gloves are never washed or "
                                            "re-used)."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.profession.choices = [("", _l("Choose your profession"))] + [(k, _l(v)) for k, v in profession_choices()]
        self.jurisdiction.choices = [("", _l("Choose a jurisdiction"))] + [(k, _l(v)) for k, v in JURISDICTIONS.items()]

    def validate_profession(self, field):
        if not field.data:
            raise ValidationError(_l("Choose your profession."))

    def validate_jurisdiction(self, field):
        if not field.data:
            raise ValidationError(_l("Choose the jurisdiction that issued your license."))


class OmtCredentialForm(FlaskForm):
    provider_name = StringField(_l("Course provider"), validators=[DataRequired(), Length(max=200)],
                                description=_l("The organisation that ran your OMT course."))
    # InputRequired, not DataRequired: 0 is falsy, and "0" must get the range message, not "This field is required".
    course_hours = DecimalField(_l("Course hours"), places=2,
                                validators=[InputRequired(), NumberRange(
                                    min=1, max=2000, message=_l("Enter hours between 1 and 2000."))])
    completed_on = DateField(_l("Completion date"), validators=[DataRequired()])
    evidence = FileField(_l("Certificate or transcript (PDF, PNG or JPEG, at most 5 MB)"),
                         validators=[FileRequired("Attach your certificate or transcript.")])

    def validate_completed_on(self, field):
        if field.data and field.data > date.today():
            raise ValidationError(_l("The completion date cannot be in the future."))


class LicenceDecisionForm(FlaskForm):
    decision = SelectField(_l("Decision"), choices=[("verified", "Verified with the licensing body"),
                                                ("rejected", "Reject")])
    reference = StringField(_l("Where you checked it"), validators=[Length(max=500)],
                            description=_l("The register's URL or the look-up reference (required to verify)."))
    reason = TextAreaField(_l("Reason"), validators=[Length(max=2000)], description=_l("Required when rejecting."))


class DecisionForm(FlaskForm):
    decision = SelectField(_l("Decision"), choices=[("verified", "Verify"), ("rejected", "Reject")])
    reason = TextAreaField(_l("Reason"), validators=[Length(max=2000)],
                           description=_l("Required when rejecting; the trainee sees it."))

    def validate_reason(self, field):
        if self.decision.data == "rejected" and not (field.data or "").strip():
            raise ValidationError(_l("Give the trainee a reason for the rejection."))
