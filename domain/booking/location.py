"""Where a call happens: one setting, "KIND:VALUE", read and written here only.

- video:https://…        any https meeting link (Zoom, Meet, Teams, Whereby, Jitsi)
- phone:owner-calls      the owner calls the visitor, who gives a number when booking
- phone:+44…             the visitor calls the owner on this number
- in-person:<address>    an address

Anything else is refused with a message a person can act on; the stored text is always
one that `parse_location` accepts, so every page and email can show it.
"""

from dataclasses import dataclass
from urllib.parse import urlsplit

import phonenumbers
from sqlalchemy.orm import Session

from domain.booking.availability import load_values, save_values, settings_row
from domain.platform.text_input import text_problem

OWNER_CALLS = "owner-calls"
NOT_SET_TEXT = "The link will follow by email."
MAX_LENGTH = 500
LOCATION_EXAMPLE = (
    "Give a location like video:https://…, phone:owner-calls, phone:+44…, or in-person:an address."
)
PHONE_EXAMPLE = "Enter a phone number with its country code, like +44 20 7946 0018."


class LocationError(ValueError):
    """The location cannot be used; the message says why."""


@dataclass(frozen=True)
class CallLocation:
    kind: str  # "video", "phone" or "in-person"
    value: str  # the https link, "owner-calls", an E.164 number, or an address

    @property
    def setting(self) -> str:
        return f"{self.kind}:{self.value}"

    @property
    def owner_calls(self) -> bool:
        return self.kind == "phone" and self.value == OWNER_CALLS

    @property
    def url(self) -> str | None:
        """A link a calendar can open: the meeting, or tel: for the owner's number."""
        if self.kind == "video":
            return self.value
        if self.kind == "phone" and not self.owner_calls:
            return f"tel:{self.value}"
        return None

    def describe(self, visitor_phone: str | None = None, owner_name: str = "We") -> str:
        """One sentence for a visitor: where the call happens."""
        if self.kind == "video":
            return f"Video call: {self.value}"
        if self.owner_calls:
            number = f" on {display_phone(visitor_phone)}" if visitor_phone else ""
            return f"Phone call: {owner_name} will call you{number}."
        if self.kind == "phone":
            return f"Phone call: please call {display_phone(self.value)}."
        return f"In person: {self.value}"

    def for_owner(self, visitor_phone: str | None = None) -> str:
        """The same, as the owner reads it (their emails, their invite, the command line)."""
        if self.owner_calls:
            number = display_phone(visitor_phone) if visitor_phone else "the number they gave"
            return f"Phone call: you call them on {number}."
        if self.kind == "phone":
            return f"Phone call: they call you on {display_phone(self.value)}."
        return self.describe()

    def before_booking(self, owner_name: str = "We") -> str:
        """For /book, which anyone (and any crawler) reads: how the call happens, without
        the meeting link or the owner's number, which come with the confirmation."""
        if self.kind == "video":
            return "Video call: the link comes with your confirmation."
        if self.owner_calls:
            return f"Phone call: {owner_name} calls you on the number you give below."
        if self.kind == "phone":
            return f"Phone call: you call {owner_name}; the number comes with your confirmation."
        return f"In person: {self.value}"

    def calendar_text(self, visitor_phone: str | None = None) -> str:
        """For the .ics LOCATION: the link, the number or the address itself."""
        if self.owner_calls:
            return f"Phone: {display_phone(visitor_phone)}" if visitor_phone else "Phone call"
        if self.kind == "phone":
            return f"Phone: {display_phone(self.value)}"
        return self.value


def parse_location(text: str) -> CallLocation:
    """ "KIND:VALUE" -> CallLocation, or LocationError saying what is wrong."""
    text = (text or "").strip()
    if not text:
        raise LocationError(LOCATION_EXAMPLE)
    if len(text) > MAX_LENGTH:
        raise LocationError(f"Keep the location to {MAX_LENGTH} characters or fewer.")
    if text_problem(text):
        raise LocationError(text_problem(text))
    kind, separator, value = text.partition(":")
    kind, value = kind.strip().lower(), value.strip()
    if not separator or kind not in PARSERS:
        raise LocationError("Start with video:, phone: or in-person:.")
    return CallLocation(kind, PARSERS[kind](value))


def _video(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.hostname or parts.username or parts.password:
        raise LocationError("A video link must be an https:// address, like https://zoom.us/j/123.")
    if any(character.isspace() for character in value):
        raise LocationError("A video link cannot contain spaces.")
    return value


def _phone(value: str) -> str:
    if value.lower() == OWNER_CALLS:
        return OWNER_CALLS
    return normalise_phone(value, "Give the number in international form, like +44 20 7946 0018.")


def _in_person(value: str) -> str:
    if len(value) < 3:
        raise LocationError("Give the address where you will meet.")
    return value


PARSERS = {"video": _video, "phone": _phone, "in-person": _in_person}


def normalise_phone(value: str, message: str = PHONE_EXAMPLE) -> str:
    """A number in E.164 (+442079460018); LocationError when it is not a real number."""
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException as error:
        raise LocationError(message) from error
    if not phonenumbers.is_valid_number(number):
        raise LocationError(message)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def display_phone(e164: str | None) -> str:
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def stored_location(setting: str | None) -> CallLocation | None:
    """The stored setting, or None when unset (or unreadable, which saving prevents)."""
    if not setting:
        return None
    try:
        return parse_location(setting)
    except LocationError:
        return None


def describe_location(
    location: CallLocation | None,
    visitor_phone: str | None = None,
    owner_name: str = "We",
    *,
    for_owner: bool = False,
) -> str:
    if location is None:
        return (
            "Not set yet: the visitor was told the link will follow by email."
            if (for_owner)
            else NOT_SET_TEXT
        )
    return (
        location.for_owner(visitor_phone)
        if for_owner
        else location.describe(visitor_phone, owner_name)
    )


def load_location(session: Session) -> CallLocation | None:
    row = settings_row(session)
    return stored_location(row.call_location if row else None)


def save_location(session: Session, text: str | None) -> CallLocation | None:
    """Store a new location ("" clears it); LocationError leaves everything as it was.
    The caller commits. The rules row is made with its defaults when none exists yet."""
    location = parse_location(text) if (text or "").strip() else None
    row = settings_row(session)
    if row is None:
        save_values(session, load_values(session))
        session.flush()
        row = settings_row(session)
    row.call_location = location.setting if location else None
    return location
