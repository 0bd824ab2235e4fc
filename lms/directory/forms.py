from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from lms.directory.choices import CONDITIONS, LANGUAGES


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ListingForm(FlaskForm):
    listed = BooleanField("Show my listing in the public directory")
    practice_name = StringField("Practice name", validators=[Optional(), Length(max=120)],
                                description="Optional. Shown with your name.")
    city = StringField("City you practise in", validators=[DataRequired("Enter the city you practise in."),
                                                           Length(max=100)],
                       description="City and state or province, e.g. “Vancouver, BC”. Only the city is shown, "
                                   "never an address.")
    show_profession = BooleanField("Show my profession (as on my certificate)")
    show_endorsements = BooleanField("Show my endorsements (as on my certificate)")
    conditions = CheckboxesField("Conditions I treat", choices=list(CONDITIONS.items()), validate_choice=False)
    languages = CheckboxesField("Languages I offer care in", choices=list(LANGUAGES.items()), validate_choice=False)
    accepts_referrals = BooleanField("I accept referrals (e.g. from dentists and oncologists)")
    telehealth_followup = BooleanField("I offer telehealth follow-up")
    website = StringField("Practice website", validators=[Optional(), Length(max=200)],
                          description="Optional. A full address starting with https://")
    phone = StringField("Practice phone number", validators=[Optional(), Length(max=30)],
                        description="Optional. A practice number, not a personal one.")
