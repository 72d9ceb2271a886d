"""A visitor who types markup into every field: the owner's pages and exports keep it inert."""

import csv
import io
import json

import pytest

from tests.conftest import ARTICLE_SLUG, Visitor

SCRIPT = "<script>alert(1)</script>"
MARKUP = f'{SCRIPT}<img src=x onerror="alert(2)"><b>bold</b>'
FORMULA = '=HYPERLINK("http://evil.example","click")'


@pytest.fixture
def hostile_lead(client, open_hours):
    """Book through the real pages with markup in every free-text field and in the UTM tags."""
    client.get(
        f"/library/{ARTICLE_SLUG}",
        query_string={"utm_source": MARKUP, "utm_campaign": MARKUP, "utm_medium": FORMULA},
        headers={"Referer": f"https://evil.example/?q={SCRIPT}"},
    )
    response = Visitor(client).book(
        name=MARKUP,
        company=FORMULA,
        role=MARKUP,
        message=MARKUP,
        email="hostile@evil.example",
    )
    assert response.status_code == 303
    return response.headers["Location"]


def assert_inert(html: str):
    assert SCRIPT not in html
    assert "<img src=x" not in html
    assert "<b>bold</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def lead_id_of(app) -> int:
    from sqlalchemy import select

    from extensions import db
    from models import Lead

    with app.app_context():
        return db.session.scalar(select(Lead.id))


def test_owner_pages_show_visitor_markup_as_text(app, hostile_lead, owner):
    lead_id = lead_id_of(app)
    assert_inert(owner.get("/owner/").get_data(as_text=True))
    assert_inert(owner.get("/owner/leads").get_data(as_text=True))
    lead_page = owner.get(f"/owner/leads/{lead_id}").get_data(as_text=True)
    assert_inert(lead_page)
    assert "evil.example/?q=&lt;script&gt;" in lead_page


def test_csv_export_is_inert_text(app, hostile_lead, owner):
    response = owner.get("/owner/leads.csv")
    assert response.mimetype == "text/csv"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == 1
    cells = list(rows[0].values())
    assert f"'{FORMULA}" in cells  # a formula becomes text in a spreadsheet
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in cells)


def test_json_export_carries_the_markup_as_plain_data(app, hostile_lead, owner):
    response = owner.get(f"/owner/leads/{lead_id_of(app)}.json")
    assert response.mimetype == "application/json"
    data = json.loads(response.get_data(as_text=True))
    assert data["lead"]["name"] == MARKUP


def test_booking_emails_to_the_owner_are_plain_text(app, hostile_lead, runner, caplog):
    with caplog.at_level("INFO"):
        runner.invoke(args=["outbox", "send"])
    assert "Content-Type: text/html" not in caplog.text
