"""The host card of step 1: from content/host.md, checked when the app starts."""

from dataclasses import replace
from pathlib import Path

import pytest

from domain.booking.host import HostCardError, load_host_card
from extensions import db

ROOT = Path(__file__).resolve().parents[1]
STATIC = ROOT / "static"

GOOD = """---
name: Ada Host
role: Consultant
photo: img/host.svg
photo_alt: Ada Host
covers:
  - One
  - Two
  - Three
---
A short bio.
"""


def write(tmp_path, text: str) -> Path:
    path = tmp_path / "host.md"
    path.write_text(text)
    return path


def test_step_one_shows_who_the_visitor_will_talk_to(client, open_hours):
    html = client.get("/book").get_data(as_text=True)
    assert "Who you will talk to" in html
    assert "Saed Shafane · Independent AI-strategy consultant" in html
    assert html.count("<li>", html.index("What the call covers")) >= 3
    assert 'src="/static/img/host.svg' in html
    assert "30 minutes" in html


def test_the_shipped_host_file_is_valid():
    card = load_host_card(ROOT / "content" / "host.md", STATIC)
    assert len(card.covers) == 3 and card.bio_html.startswith("<p>")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("name: Ada Host\n", ""), "please fill in name"),
        (("  - Three\n", ""), "exactly three points"),
        (("img/host.svg", "img/missing.jpg"), "is not a file under static/"),
        (("img/host.svg", "../app.py"), "is not a file under static/"),
        (("img/host.svg", "/etc/hostname"), "is not a file under static/"),
        (("A short bio.\n", ""), "short bio"),
    ],
)
def test_a_mistake_in_the_host_file_is_named(tmp_path, change, message):
    with pytest.raises(HostCardError, match=message):
        load_host_card(write(tmp_path, GOOD.replace(*change)), STATIC)


def test_the_card_gives_the_call_length_the_owner_set(app, client, open_hours):
    from domain.booking.availability import load_values, save_values

    with app.app_context():
        values = load_values(db.session)
        save_values(db.session, replace(values, call_minutes=45))
        db.session.commit()
    html = client.get("/book").get_data(as_text=True)
    card = html[html.index("Who you will talk to") :]
    assert "<dd>45 minutes</dd>" in card


def test_the_booking_pages_name_the_host_from_the_file_not_the_code(app, client, visitor, tmp_path):
    """A new owner edits content/host.md; no page still names the first one."""
    app.extensions["host_card"] = load_host_card(write(tmp_path, GOOD), STATIC)
    picker = client.get("/book").get_data(as_text=True)
    assert "conversation with Ada Host about" in picker
    assert (
        '<meta name="description" content="Pick a time for a 30-minute AI strategy '
        'conversation with Ada Host.">' in picker
    )
    slot = visitor.free_slots()[0]
    details = client.get("/book", query_string={"slot": slot, "timezone": "Asia/Kolkata"})
    assert "for Ada in London (GMT+" in details.get_data(as_text=True)  # no nested brackets
    manage_url = (
        visitor.book(slot, timezone="Asia/Kolkata").headers["Location"].removesuffix("/confirmed")
    )
    manage = client.get(manage_url).get_data(as_text=True)
    assert "<dt>Ada’s time</dt>" in manage
    cancel = client.get(f"{manage_url}/cancel").get_data(as_text=True)
    assert "Ada reads every reason." in cancel
    # The brand and the consent's data controller are the site's (config), not the host's.
    old_host = ("with Saed", "for Saed", "Saed’s time", "Saed reads", "Saed calls", "Saed will")
    for page in (picker, details.get_data(as_text=True), manage, cancel):
        assert not [phrase for phrase in old_host if phrase in page]
