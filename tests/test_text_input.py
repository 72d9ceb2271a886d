"""The typed-text rules, without HTTP: what is refused, and how header/URL text is cleaned."""

import pytest

from domain.platform.text_input import (
    CONTROL_MESSAGE,
    LINE_BREAK_MESSAGE,
    printable_text,
    single_line,
    text_problem,
)


@pytest.mark.parametrize(
    "value", ["a\x00b", "a\x1bb", "a\x7fb", "a\x85b", "a\u202eb", "a\u2066b", "\x08"]
)
def test_control_characters_are_refused_on_one_line_and_many(value):
    assert text_problem(value) == CONTROL_MESSAGE
    assert text_problem(value, multiline=True) == CONTROL_MESSAGE


@pytest.mark.parametrize("value", ["a\rb", "a\nb", "a\r\nb", "a\u2028b", "a\u2029b", "a\tb"])
def test_line_breaks_and_tabs_are_refused_on_one_line_only(value):
    assert text_problem(value) == LINE_BREAK_MESSAGE
    assert text_problem(value, multiline=True) is None


@pytest.mark.parametrize(
    "value", ["", "Ada Lovelace", "Zoë Ørsted-Łukasz", "李小龙", "O'Brien & Co."]
)
def test_ordinary_text_in_any_script_is_accepted(value):
    assert text_problem(value) is None


def test_single_line_turns_breaks_and_controls_into_single_spaces():
    assert (
        single_line("  New booking:\r\n Ada\x00Lovelace\tCTO  ") == "New booking: Ada Lovelace CTO"
    )


def test_printable_text_drops_controls_and_keeps_lines_only_when_asked():
    assert printable_text("news\x00letter\r\nnext") == "newsletter next"
    assert printable_text("line one\x07\nline two", multiline=True) == "line one\nline two"
