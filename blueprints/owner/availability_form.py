"""The availability form: typed text in, `AvailabilityValues` out, errors beside fields.

Weekly hours are time inputs per day (blueprints/owner/weekly_hours.py reads them); the
other fields are text so that whatever the owner typed comes back unchanged with an error;
the form only reads numbers and dates, and `domain.booking.availability.validate` decides what
is allowed, so the command line and this page refuse the same things.
"""

import math
import re
from datetime import date

from wtforms import SelectField, StringField, TextAreaField
from wtforms.widgets import NumberInput

from blueprints.owner.weekly_hours import Row, ranges_of, read_rows, rows_problem, shown_rows
from domain.booking.availability import WEEKDAYS, AvailabilityValues, validate

# Shared with the booking pages' zone picker, so both offer the same names.
from domain.booking.timezones import POPULAR_ZONES, timezone_names
from forms import SafeForm

HOURS_HINT = (
    "Each day's ranges, in your time zone. A day without times has no calls; "
    "clear a range's two times to remove it."
)
# Domain error keys that name a different field, or need the form's own unit.
FIELD_FOR_KEY = {"min_notice_minutes": "min_notice_hours"}
WHOLE_NUMBER = re.compile(r"-?[0-9]{1,9}")
MESSAGE_FOR_KEY = {"min_notice_minutes": "Enter a number of hours from 0 to 1440."}


def zone_choices() -> dict[str, list[tuple[str, str]]]:
    return {
        "Common": [(name, name) for name in POPULAR_ZONES],
        "All other time zones": [
            (name, name) for name in timezone_names() if name not in POPULAR_ZONES
        ],
    }


def number_field(label: str, step: str = "1", **render_kw) -> StringField:
    return StringField(
        label,
        widget=NumberInput(step=step, min="0"),
        render_kw={"inputmode": "decimal" if step != "1" else "numeric", **render_kw},
    )


class AvailabilityForm(SafeForm):
    timezone = SelectField("Your time zone", validate_choice=False)
    call_minutes = number_field("Call length (minutes)")
    buffer_minutes = number_field("Buffer after each call (minutes)")
    min_notice_hours = number_field("Minimum notice (hours)", step="any")
    horizon_days = number_field("How far ahead (days)")
    daily_limit = number_field("Daily limit (calls)", placeholder="No limit")
    dates_off = TextAreaField("Dates off", render_kw={"rows": 5})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.timezone.choices = zone_choices()
        self.hour_rows: dict[int, list[Row]] = {day: [] for day in range(7)}
        self.hour_errors: dict[int, str] = {}

    @property
    def errors(self) -> dict:
        """The fields' errors and each day's, so the form's alert counts them all."""
        day_errors = {f"hours_{day}": [message] for day, message in self.hour_errors.items()}
        return {**super().errors, **day_errors}

    def read_hours(self, formdata) -> None:
        self.hour_rows = {day: read_rows(formdata, day) for day in range(7)}

    def weekdays(self) -> list[tuple[int, str, list[Row], str | None]]:
        """(day number, name, rows to show, error) for each day, Monday first."""
        return [
            (day, WEEKDAYS[day], shown_rows(self.hour_rows[day]), self.hour_errors.get(day))
            for day in range(7)
        ]

    @classmethod
    def from_values(cls, values: AvailabilityValues) -> "AvailabilityForm":
        data = {
            "timezone": values.timezone,
            "call_minutes": str(values.call_minutes),
            "buffer_minutes": str(values.buffer_minutes),
            "min_notice_hours": hours_text(values.min_notice_minutes),
            "horizon_days": str(values.horizon_days),
            "daily_limit": "" if values.daily_limit is None else str(values.daily_limit),
            "dates_off": "\n".join(values.dates_off),
        }
        form = cls(formdata=None, data=data)
        form.hour_rows = {
            day: [tuple(pair) for pair in values.weekly_hours.get(str(day), [])] for day in range(7)
        }
        return form

    def to_values(self) -> tuple[AvailabilityValues, dict[str, str]]:
        """The values typed, and every problem keyed by field name (empty when all is well)."""
        errors: dict[str, str] = {}
        weekly_hours = {}
        for day, rows in self.hour_rows.items():
            problem = rows_problem(rows)
            if problem:
                errors[f"hours_{day}"] = problem
            weekly_hours[str(day)] = [] if problem else ranges_of(rows)
        values = AvailabilityValues(
            timezone=(self.timezone.data or "").strip(),
            weekly_hours=weekly_hours,
            call_minutes=whole_number(self.call_minutes.data),
            buffer_minutes=whole_number(self.buffer_minutes.data),
            min_notice_minutes=minutes_from_hours(self.min_notice_hours.data),
            horizon_days=whole_number(self.horizon_days.data),
            daily_limit=whole_number(self.daily_limit.data),
            dates_off=date_lines(self.dates_off.data),
        )
        if (self.daily_limit.data or "").strip() and values.daily_limit is None:
            errors["daily_limit"] = "Enter a whole number from 1 to 48, or leave it empty."
        for key, message in validate(values).items():
            name = FIELD_FOR_KEY.get(key, key)
            errors.setdefault(name, MESSAGE_FOR_KEY.get(key, message))
        return values, errors

    def show_errors(self, errors: dict[str, str]) -> None:
        """Each problem beside its field, unless the field was refused already (a control
        character): one message a field, the first one found."""
        for name, message in errors.items():
            if name.startswith("hours_"):
                self.hour_errors.setdefault(int(name.removeprefix("hours_")), message)
            elif not self[name].errors:
                self[name].errors = [message]


def whole_number(text: str | None) -> int | None:
    text = (text or "").strip()
    return int(text) if WHOLE_NUMBER.fullmatch(text) else None


def minutes_from_hours(text: str | None) -> int | None:
    try:
        minutes = float((text or "").strip().replace(",", ".")) * 60
    except ValueError:
        return None
    return round(minutes) if math.isfinite(minutes) else None


def date_lines(text: str | None) -> list[str]:
    """One date a line; readable ones in ISO form (2026-12-25), others kept for the error."""
    days = []
    for line in filter(None, (line.strip() for line in (text or "").splitlines())):
        try:
            days.append(date.fromisoformat(line).isoformat())
        except ValueError:
            days.append(line)
    return days


def hours_text(minutes: int) -> str:
    """1440 -> '24', 90 -> '1.5', 20 -> '0.33' (round-trips to 20 minutes)."""
    return f"{minutes / 60:.2f}".rstrip("0").rstrip(".")
