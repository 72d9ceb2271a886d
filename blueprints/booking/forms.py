"""The booking form. Field names are a public contract: the same names pre-fill from the URL."""

import re
import uuid

from wtforms import (
    BooleanField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from domain.leads.scoring import COMPANY_SIZES
from forms import SafeForm

CONSENT_VERSION = "2026-11-consent-v1"
CONSENT_TEXT = (
    "I agree that Saed Shafane may store my answers and contact me by email about this call. "
    "I can ask for my data to be erased at any time."
)
INVALID_EMAIL = "Please enter a valid email address, like name@company.com."
SUBMISSION_KEY = re.compile(r"^[0-9a-f]{32}$")


def strip(value):
    return value.strip() if isinstance(value, str) else value


def one_newline(value):
    # Browsers send a typed line break as CRLF but count it as one character against
    # maxlength: counting it as one here too keeps the two limits the same.
    return value.replace("\r\n", "\n") if isinstance(value, str) else value


class CheckboxList(SelectMultipleField):
    """A multi-select shown as checkboxes: easier to use than a <select multiple>."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class BookingForm(SafeForm):
    name = StringField(
        "Your name",
        filters=[strip],
        validators=[DataRequired("Please tell us your name."), Length(max=200)],
    )
    email = StringField(
        "Work email",
        filters=[strip],
        validators=[
            DataRequired("Please give an email address so we can confirm the call."),
            Length(max=320),
        ],
    )
    company = StringField(
        "Company",
        filters=[strip],
        validators=[DataRequired("Please name your company."), Length(max=200)],
    )
    role = StringField(
        "Your role",
        filters=[strip],
        validators=[DataRequired("Please tell us your role."), Length(max=200)],
    )
    company_size = SelectField(
        "Company size",
        choices=[SelectChoice(v, label) for v, label in [("", "Choose a size…"), *COMPANY_SIZES]],
        validate_choice=False,  # validate_company_size gives the visitor a clearer message
        validators=[InputRequired("Please choose your company's size.")],
    )
    situation = CheckboxList("What prompts the call?", choices=[], validators=[Optional()])
    # Asked (and required) only when the owner calls the visitor; see the route.
    phone = StringField(
        "Your phone number",
        filters=[strip],
        validators=[Optional(), Length(max=40, message="Please keep the number to 40 characters.")],
    )
    message = TextAreaField(
        "Anything else we should know?",
        validators=[
            Optional(),
            Length(max=2000, message="Please keep the message to 2,000 characters or fewer."),
        ],
    )
    consent = BooleanField(
        CONSENT_TEXT, validators=[DataRequired("Please agree so that we can contact you.")]
    )
    slot = HiddenField("Time", validators=[DataRequired("Please choose a time for the call.")])
    timezone = HiddenField("Time zone")
    # Not part of the contract: spam traps and the double-submit key.
    website = StringField("Leave this field empty")
    rendered = HiddenField()
    submission_key = HiddenField()

    def __init__(self, *args, check_deliverability: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.email.validators = [
            *self.email.validators,
            Email(
                message=INVALID_EMAIL,
                check_deliverability=check_deliverability,
            ),
        ]

    def validate_email(self, field):
        # Runs after the field's own checks passed: a well-formed address that few mail
        # servers would take (it needs SMTPUTF8), so its emails could never leave.
        local_part = (field.data or "").rpartition("@")[0]
        if not field.errors and not local_part.isascii():
            raise ValidationError(
                "Please use an address with only plain letters, digits and . _ - + before "
                "the @: our mail server cannot deliver to this one."
            )

    def validate_company_size(self, field):
        if field.data not in {value for value, _ in COMPANY_SIZES}:
            raise ValidationError("Please choose your company's size.")

    def ensure_submission_key(self) -> str:
        if not SUBMISSION_KEY.match(self.submission_key.data or ""):
            self.submission_key.data = uuid.uuid4().hex
        return self.submission_key.data


class ConfirmForm(SafeForm):
    """A POST-only confirmation (reschedule, cancel) so that link scanners change nothing."""

    slot = HiddenField()
    timezone = HiddenField()


CANCEL_REASON_MAX = 1000


class CancelForm(SafeForm):
    """The cancel confirmation: a POST, so link scanners change nothing, with an optional
    reason for the owner. SafeForm refuses control characters beside the field."""

    reason = TextAreaField(
        "Why are you cancelling? (optional)",
        filters=[strip, one_newline],
        validators=[
            Optional(),
            Length(
                max=CANCEL_REASON_MAX,
                message="Please keep the reason to 1,000 characters or fewer.",
            ),
        ],
    )


class LinksRequestForm(SafeForm):
    """ "Send me my booking links": an address, answered the same whether known or not."""

    email = StringField(
        "Your email address",
        filters=[strip],
        validators=[
            DataRequired("Please give the email address you booked with."),
            Length(max=320),
            Email(message=INVALID_EMAIL),
        ],
    )
