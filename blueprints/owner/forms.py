"""The owner's forms; all on SafeForm, so control characters are refused beside the field."""

from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from forms import SafeForm


class LoginForm(SafeForm):
    email = EmailField("Email", validators=[DataRequired("Enter your email."), Length(max=320)])
    password = PasswordField(
        "Password", validators=[DataRequired("Enter your password."), Length(max=1024)]
    )


class CodeForm(SafeForm):
    """The login's second step: a code from the authenticator app, or a recovery code."""

    code = StringField(
        "Code", validators=[DataRequired("Enter a code."), Length(max=64, message="Too long.")]
    )


class ConfirmTwoFactorForm(SafeForm):
    code = StringField(
        "Code from your app",
        validators=[DataRequired("Enter the 6-digit code."), Length(max=16, message="Too long.")],
    )


class ReauthForm(SafeForm):
    """Asked again before a change to the second factor (used with a prefix, twice a page)."""

    proof = PasswordField(
        "Your password, or a code from your app",
        validators=[DataRequired("Enter your password or a code."), Length(max=1024)],
    )


class ActionForm(SafeForm):
    """A form with nothing but its CSRF token, for POST-only buttons (logout, erase)."""


class CalendarFeedForm(SafeForm):
    """A calendar's private feed address ("secret address in iCal format")."""

    url = StringField(
        "Feed address",
        validators=[
            DataRequired("Enter the feed's address."),
            Length(max=2000, message="That address is longer than 2,000 characters."),
        ],
    )
    name = StringField(
        "Name (optional)",
        validators=[Length(max=200, message="Keep the name under 200 characters.")],
    )
