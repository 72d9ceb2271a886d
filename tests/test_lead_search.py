"""The lead list at scale, told in behaviour: the count stops at its cap and says so,
search finds fragments of a name, email or company wherever they sit in the word, and the
search index follows every change to a lead (on SQLite it is a separate FTS5 table)."""

from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import select

from domain.leads.search import LeadFilter, page_of
from extensions import db
from models import Lead
from tests.test_owner_leads import NOW, add_lead, csv_of, listed

HOSTILE_QUERIES = (
    '"', '""', "%", "_", "\\", "*", "a*", "NEAR(a b)", "x OR y", "-ada", "ada AND",
    "'; DROP TABLE lead; --", "^ada", "{name}: ada", "ada\"lov",
)  # fmt: skip


@pytest.fixture
def people(app):
    add_lead(
        app,
        "Ada Lovelace",
        email="ada@engines.example",
        company="Analytical Engines",
        fit_score=80,
        created_at=NOW - timedelta(days=3),
    )
    add_lead(
        app,
        "Grace Hopper",
        email="grace@navy.example",
        company="US Navy",
        fit_score=95,
        created_at=NOW - timedelta(days=2),
    )
    add_lead(app, "Zoë Okafor", email="zoe@kestrel.example", company="Kestrel Health",
             fit_score=60, created_at=NOW - timedelta(days=1))  # fmt: skip


@pytest.fixture
def small_cap(app):
    app.config["LEAD_COUNT_CAP"] = 2
    yield
    app.config.pop("LEAD_COUNT_CAP")


def count_line(client, **query) -> str:
    html = client.get("/owner/leads", query_string=query).get_data(as_text=True)
    return html.split('<p class="lead-count">', 1)[1].split("</p>", 1)[0]


def test_past_the_cap_the_count_says_cap_plus(small_cap, owner, people):
    assert count_line(owner) == "2+ leads"
    assert count_line(owner, q="ada") == "1 lead match these filters"
    page = owner.get("/owner/leads").get_data(as_text=True)
    assert "of 2+," in page  # the caption says the same
    assert len(listed(owner)) == 3  # the page still shows every lead it has room for


def test_at_the_cap_the_count_is_exact(app, owner, people):
    app.config["LEAD_COUNT_CAP"] = 3
    try:
        assert count_line(owner) == "3 leads"
    finally:
        app.config.pop("LEAD_COUNT_CAP")


def test_the_default_cap_is_ten_thousand(app, people):
    with app.app_context():
        found = page_of(db.session, LeadFilter(), NOW, count_cap=10_000)
        assert (found.total, found.total_label) == (3, "3")
        capped = page_of(db.session, LeadFilter(), NOW, count_cap=1)
        assert (capped.total_label, capped.total_is_exact, len(capped.leads)) == ("1+", False, 3)


@pytest.mark.parametrize(
    ("fragment", "expected"),
    [
        ("velac", ["Ada Lovelace"]),  # the middle of a name
        ("LOVELACE", ["Ada Lovelace"]),  # any case
        ("ngin", ["Ada Lovelace"]),  # the middle of an email and of a company
        ("@navy.ex", ["Grace Hopper"]),  # email punctuation
        ("us nav", ["Grace Hopper"]),  # across a space
        ("ZOË", ["Zoë Okafor"]),  # beyond ASCII, any case
        ("kestrel health", ["Zoë Okafor"]),
        # 1 or 2 characters, too short for trigrams, find the start of a word
        ("ho", ["Grace Hopper"]),
        ("NA", ["Grace Hopper"]),  # @navy
        ("K", ["Zoë Okafor"]),  # Kestrel, not the k inside Okafor alone
        ("en", ["Ada Lovelace"]),  # Engines
        ("e", ["Zoë Okafor", "Grace Hopper", "Ada Lovelace"]),  # .example
        ("ve", []),  # only inside words
        ("%", []),
        ("nobody", []),
    ],
)
def test_search_finds_a_fragment_anywhere_in_name_email_or_company(
    owner, people, fragment, expected
):
    assert listed(owner, q=fragment) == expected


def test_search_and_order_together(owner, people):
    assert listed(owner, q="example", sort="score") == [
        "Grace Hopper",
        "Ada Lovelace",
        "Zoë Okafor",
    ]
    assert listed(owner, q="ace", sort="score") == ["Grace Hopper", "Ada Lovelace"]


@pytest.mark.parametrize("query", HOSTILE_QUERIES)
def test_search_syntax_in_a_query_is_text_never_an_error(owner, people, query):
    response = owner.get("/owner/leads", query_string={"q": query})
    assert response.status_code == 200
    assert listed(owner, q=query) == []
    assert len(csv_of(owner, q=query)) == 1  # the header only


def test_a_quote_inside_a_name_is_found_as_text(app, owner, people):
    add_lead(app, 'Dara "DJ" O\'Neill', email="dara@oneill.example")
    assert [unescape(name) for name in listed(owner, q='"DJ" O\'')] == ['Dara "DJ" O\'Neill']


def test_the_search_follows_a_renamed_and_an_erased_lead(app, owner, people):
    with app.app_context():
        ada = db.session.scalar(select(Lead).where(Lead.name == "Ada Lovelace"))
        ada.name, ada.company = "Ada King", "Countess Holdings"
        db.session.commit()
    assert listed(owner, q="lovelace") == []
    assert listed(owner, q="countess") == ["Ada King"]
    assert listed(owner, q="ngines") == ["Ada King"]  # her email is unchanged
    with app.app_context():
        db.session.delete(db.session.scalar(select(Lead).where(Lead.name == "Grace Hopper")))
        db.session.commit()
    assert listed(owner, q="hopper") == [] and listed(owner, q="navy") == []
    add_lead(app, "Grace Hopper", email="grace@navy.example", company="US Navy")
    assert listed(owner, q="hopper") == ["Grace Hopper"]


def test_the_csv_has_what_the_search_finds(owner, people):
    rows = csv_of(owner, q="velac")
    assert [row[2] for row in rows[1:]] == ["Ada Lovelace"]
