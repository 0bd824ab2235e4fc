from datetime import date

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DateField, DecimalField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from lms.jurisdictions.data import JURISDICTIONS
from lms.providers.professions import profession_choices


class ProfileForm(FlaskForm):
    legal_name = StringField("Legal name", validators=[DataRequired(), Length(max=200)],
                             description="Exactly as it should appear on your certificate.")
    profession = SelectField("Profession", choices=[])
    license_number = StringField("License or registration number", validators=[DataRequired(), Length(max=60)])
    license_expires_on = DateField("License expiry date", validators=[Optional()])
    jurisdiction = SelectField("Issuing jurisdiction", choices=[])
    cpr_expires_on = DateField("CPR/BLS card expiry date", validators=[Optional()],
                               description="Current CPR or BLS, completed in person.")
    has_intraoral_endorsement = BooleanField("My licence carries my jurisdiction's intraoral massage endorsement "
                                             "(where one exists, e.g. Washington).")
    licence_evidence = FileField("Evidence of your licence (PDF, PNG or JPEG, at most 5 MB)",
                                 description="A copy of the licence or the licensing body's register entry. An "
                                             "administrator checks the licence with the licensing body; changing "
                                             "profession, jurisdiction, number, expiry or endorsement needs a new "
                                             "check.")
    infection_control_ack = BooleanField("I have read and will follow the infection-control and glove protocol "
                                         "(fresh gloves for every client contact; gloves are never washed or re-used).")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.profession.choices = [("", "Choose your profession")] + profession_choices()
        self.jurisdiction.choices = [("", "Choose a jurisdiction")] + list(JURISDICTIONS.items())

    def validate_profession(self, field):
        if not field.data:
            raise ValidationError("Choose your profession.")

    def validate_jurisdiction(self, field):
        if not field.data:
            raise ValidationError("Choose the jurisdiction that issued your license.")


class OmtCredentialForm(FlaskForm):
    provider_name = StringField("Course provider", validators=[DataRequired(), Length(max=200)],
                                description="The organisation that ran your OMT course.")
    # InputRequired, not DataRequired: 0 is falsy, and "0" must get the range message, not "This field is required".
    course_hours = DecimalField("Course hours", places=2,
                                validators=[InputRequired(), NumberRange(min=1, max=2000,
                                                                         message="Enter hours between 1 and 2000.")])
    completed_on = DateField("Completion date", validators=[DataRequired()])
    evidence = FileField("Certificate or transcript (PDF, PNG or JPEG, at most 5 MB)",
                         validators=[FileRequired("Attach your certificate or transcript.")])

    def validate_completed_on(self, field):
        if field.data and field.data > date.today():
            raise ValidationError("The completion date cannot be in the future.")


class LicenceDecisionForm(FlaskForm):
    decision = SelectField("Decision", choices=[("verified", "Verified with the licensing body"),
                                                ("rejected", "Reject")])
    reference = StringField("Where you checked it", validators=[Length(max=500)],
                            description="The register's URL or the look-up reference (required to verify).")
    reason = TextAreaField("Reason", validators=[Length(max=2000)], description="Required when rejecting.")


class DecisionForm(FlaskForm):
    decision = SelectField("Decision", choices=[("verified", "Verify"), ("rejected", "Reject")])
    reason = TextAreaField("Reason", validators=[Length(max=2000)],
                           description="Required when rejecting; the trainee sees it.")

    def validate_reason(self, field):
        if self.decision.data == "rejected" and not (field.data or "").strip():
            raise ValidationError("Give the trainee a reason for the rejection.")
