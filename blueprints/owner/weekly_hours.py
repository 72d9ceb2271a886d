"""The weekly hours part of the availability form: per day, rows of two time inputs.

Each row posts `hours_<day>_start` and `hours_<day>_end` (the lists line up by position).
A row with both times empty is no range, which is how a range is removed without
JavaScript; the page always adds one empty row per day, which is how one is added. The
stored format stays {"0": [["09:00", "12:00"]]}; `domain.booking.availability.validate`
still decides what is allowed (end after start, no overlaps), as for the command line.
"""

import re
from collections.abc import Mapping

from domain.platform.text_input import printable_text, text_problem

# What <input type="time"> sends (seconds when a step asks for them); anything else was
# typed by hand or forged.
TIME_VALUE = re.compile(r"(?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:\.[0-9]{1,3})?)?")
MAX_ROWS = 12  # a day cut into more ranges than this is a forged request
Row = tuple[str, str]


def read_rows(formdata: Mapping, day: int) -> list[Row]:
    """The rows posted for `day`, as typed (a missing partner reads as empty)."""
    starts = list(formdata.getlist(f"hours_{day}_start"))
    ends = list(formdata.getlist(f"hours_{day}_end"))
    width = max(len(starts), len(ends))
    starts += [""] * (width - len(starts))
    ends += [""] * (width - len(ends))
    return [(start.strip(), end.strip()) for start, end in zip(starts, ends, strict=True)]


def rows_problem(rows: list[Row]) -> str | None:
    """What is wrong with the rows as typed, before the domain's own checks."""
    for value in (value for row in rows for value in row):
        problem = text_problem(value, multiline=False)
        if problem:
            return problem
    filled = [row for row in rows if any(row)]
    if len(filled) > MAX_ROWS:
        return f"Give at most {MAX_ROWS} ranges a day."
    if any(not start or not end for start, end in filled):
        return "Give each range both a start and an end time, or clear both to remove it."
    if any(not TIME_VALUE.fullmatch(value) for row in filled for value in row):
        return "Write times as HH:MM, for example 09:00–12:00."
    return None


def ranges_of(rows: list[Row]) -> list[list[str]]:
    """[["09:00", "12:00"], …] from rows that passed `rows_problem`: minutes only, in order
    of the start (the order typed does not matter)."""
    filled = [[start[:5], end[:5]] for start, end in rows if start or end]
    return sorted(filled)


def shown_rows(rows: list[Row]) -> list[Row]:
    """The rows to show: the filled ones, cleaned of invisible characters, then one empty."""
    kept = [(printable_text(start), printable_text(end)) for start, end in rows if start or end]
    return [*kept, ("", "")]
