"""Rules for text that people type: no control characters, and single-line fields stay on
one line. Used by every form and by anything that copies typed text into an email header.

PostgreSQL refuses NUL in text, and a line break in a name would end up in an email
header, so both are refused where they are typed, beside the field, with a message.
"""

import re

# C0 controls except tab, LF and CR; DEL; C1 controls; bidi embeddings, overrides and
# isolates, which can make text read differently from what it says.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_LINE_BREAK = re.compile(r"[\r\n\u2028\u2029]")
_TAB = "\t"

CONTROL_MESSAGE = (
    "This contains a character we cannot accept (a control character). Please retype it."
)
LINE_BREAK_MESSAGE = "Please keep this on one line."


def text_problem(value: str, *, multiline: bool = False) -> str | None:
    """Why `value` cannot be accepted as typed text, or None when it can."""
    if _CONTROL.search(value):
        return CONTROL_MESSAGE
    if not multiline and (_LINE_BREAK.search(value) or _TAB in value):
        return LINE_BREAK_MESSAGE
    return None


def is_clean(value: str, *, multiline: bool = False) -> bool:
    return text_problem(value, multiline=multiline) is None


def single_line(value: str) -> str:
    """`value` made safe for an email header or a log line: controls and breaks become spaces."""
    without_controls = _CONTROL.sub(" ", _LINE_BREAK.sub(" ", value.replace(_TAB, " ")))
    return " ".join(without_controls.split())


def printable_text(value: str, *, multiline: bool = False) -> str:
    """`value` with what `text_problem` refuses removed, for input nobody can be asked to fix
    (headers, query strings copied into attribution)."""
    cleaned = _CONTROL.sub("", value)
    return cleaned if multiline else single_line(cleaned)
