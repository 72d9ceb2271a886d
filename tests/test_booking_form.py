"""Step 2, the short form: the four questions and the time in view, the optional detail
folded under "Help me prepare", and the fold opened again when one of its answers is wrong."""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import ARTICLE_SLUG, Visitor


@pytest.fixture
def kolkata(client, open_hours):
    return Visitor(client, timezone="Asia/Kolkata")


def details_page(visitor) -> tuple[str, str]:
    slot = visitor.free_slots()[0]
    page = visitor.client.get(
        "/book", query_string={"article": ARTICLE_SLUG, "timezone": visitor.timezone, "slot": slot}
    ).get_data(as_text=True)
    return slot, page


def fold_of(page: str) -> str:
    return re.search(r'<details class="prepare"[^>]*>.*?</details>', page, re.S).group(0)


def test_the_optional_questions_are_folded_and_the_required_ones_are_not(kolkata):
    _, page = details_page(kolkata)
    fold = fold_of(page)
    assert re.match(r'<details class="prepare">', fold)  # closed
    assert "<summary>Help me prepare (optional)</summary>" in fold
    assert 'name="situation"' in fold and 'name="message"' in fold
    before_fold = page[: page.index(fold)]
    for name in ("name", "email", "company", "role", "company_size", "slot", "timezone"):
        assert f'name="{name}"' in before_fold, name
    # Consent stays last, after the fold, then the button.
    after_fold = page[page.index(fold) + len(fold) :]
    assert after_fold.index('name="consent"') < after_fold.index("Book the call")


def test_change_goes_back_to_the_chosen_day_in_the_same_zone(kolkata):
    slot, page = details_page(kolkata)
    start = datetime.fromisoformat(slot.replace("Z", "+00:00"))
    day = start.astimezone(ZoneInfo("Asia/Kolkata")).date().isoformat()
    change = re.search(r'<a class="change-time" href="([^"]+)">Change', page).group(1)
    assert change == (f"/book?article={ARTICLE_SLUG}&amp;timezone=Asia/Kolkata&amp;day={day}#times")


def test_a_wrong_answer_in_the_fold_opens_it_on_the_redisplay(kolkata):
    response = kolkata.book(message="x" * 2001)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    fold = fold_of(page)
    assert fold.startswith('<details class="prepare" open>')
    assert "Please keep the message to 2,000 characters or fewer." in fold


def test_a_wrong_answer_outside_the_fold_leaves_an_empty_fold_closed(kolkata):
    response = kolkata.book(email="ada@", message=None, situation=None)
    assert response.status_code == 400
    assert fold_of(response.get_data(as_text=True)).startswith('<details class="prepare">')


def test_answers_already_in_the_fold_stay_in_view_on_a_redisplay(kolkata):
    response = kolkata.book(email="ada@", message="Three pilots, no plan.")
    fold = fold_of(response.get_data(as_text=True))
    assert fold.startswith('<details class="prepare" open>')
    assert "Three pilots, no plan." in fold


def test_step_two_and_the_cancel_pages_pass_the_nu_html_checker(client, kolkata, tmp_path):
    from tests.test_owner_html_valid import check_html

    _, step_two = details_page(kolkata)
    redisplay = kolkata.book(email="ada@", message="x" * 2001).get_data(as_text=True)
    manage_url = kolkata.book().headers["Location"].removesuffix("/confirmed")
    pages = {
        "step-two": step_two,
        "step-two-errors": redisplay,
        "manage": client.get(manage_url).get_data(as_text=True),
        "cancel": client.get(f"{manage_url}/cancel").get_data(as_text=True),
        "cancel-refused": client.post(f"{manage_url}/cancel", data={"reason": "x" * 1001}).get_data(
            as_text=True
        ),
    }
    files = []
    for label, html in pages.items():
        files.append(tmp_path / f"{label}.html")
        files[-1].write_text(html)
    assert check_html(files) == {}
