"""The base of every form on the site: Flask-WTF with CSRF, plus the typed-text rules.

Every field that carries text is checked before its own validators: a control character
anywhere, or a line break in a single-line field, is refused beside that field with a
clear message, and the other answers are kept as typed.
"""

from flask_wtf import FlaskForm
from wtforms import TextAreaField

from domain.platform.text_input import printable_text, text_problem


def _texts(data) -> list[str]:
    if isinstance(data, str):
        return [data]
    if isinstance(data, list | tuple):
        return [item for item in data if isinstance(item, str)]
    return []


class SafeForm(FlaskForm):
    """A FlaskForm whose text fields refuse control characters (and line breaks, unless the
    field is a TextAreaField)."""

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for field in self:
            raw = [*_texts(field.raw_data or []), *_texts(field.data)]
            multiline = isinstance(field, TextAreaField)
            problem = next(
                (p for p in (text_problem(v, multiline=multiline) for v in raw) if p), None
            )
            if problem:
                # The character rule comes first: other messages about this value would
                # only confuse the visitor.
                field.errors = [problem]
                _show_cleaned(field, multiline)
                valid = False
        return valid


def _show_cleaned(field, multiline: bool) -> None:
    """Shown back without the refused characters (they are invisible), so the person sees
    what will be kept and can send it again as it is."""
    if isinstance(field.data, str):
        field.data = printable_text(field.data, multiline=multiline)
    if field.raw_data:
        field.raw_data = [
            printable_text(v, multiline=multiline) if isinstance(v, str) else v
            for v in field.raw_data
        ]
