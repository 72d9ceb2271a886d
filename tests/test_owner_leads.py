"""The owner's lead list: search, filters, order, pages, bulk status, CSV export, and scale."""

import csv
import io
import re
import time
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from blueprints.owner.fake_leads import fake_leads_cli, insert_fake_leads
from domain.booking.availability import AvailabilityValues, save_values
from domain.content.counters import upsert_counts
from domain.leads.search import (
    CSV_HEADER,
    MAX_PAGE,
    LeadFilter,
    csv_chunks,
    csv_rows,
    lead_query,
    page_of,
    spreadsheet_safe,
)
from extensions import db
from models import ArticleDailyStat, Lead, LeadEvent, Owner
from tests.conftest import ARTICLE_SLUG, OWNER_EMAIL, OWNER_PASSWORD

NOW = datetime.now(UTC).replace(microsecond=0)
XSS = "<script>alert(1)</script><b>x</b>"


def add_lead(app, name="Ada Lovelace", **fields) -> int:
    email = fields.pop("email", f"{name.lower().replace(' ', '.')}@example.test")
    values = {
        "email": email, "email_normalised": email.lower(), "name": name,
        "company": "Analytical Engines", "role": "CTO", "company_size": "51-200",
        "status": "new", "fit_score": 50, "suggested_engagement": "architect",
        "source_article": None, "first_touch": {}, "last_touch": {}, "articles_read": [],
        "consent_version": "v1", "consent_given_at": NOW,
        "created_at": NOW - timedelta(days=1), **fields,
    }  # fmt: skip
    with app.app_context():
        lead = Lead(**values)
        db.session.add(lead)
        db.session.commit()
        return lead.id


def listed(client, **query) -> list[str]:
    """The names in the list's table, in order."""
    response = client.get("/owner/leads", query_string=query)
    assert response.status_code == 200
    return names_in(response.get_data(as_text=True))


def names_in(html: str) -> list[str]:
    return re.findall(r'<th scope="row">\s*<a href="[^"]*">([^<]*)</a>', html)


def csv_of(client, **query) -> list[list[str]]:
    response = client.get("/owner/leads.csv", query_string=query)
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


@pytest.fixture
def three_leads(app):
    return {
        "ada": add_lead(app, "Ada Lovelace", email="ada@engines.example",
                        company="Analytical Engines", status="new", fit_score=80,
                        source_article=ARTICLE_SLUG, created_at=NOW - timedelta(days=3)),
        "grace": add_lead(app, "Grace Hopper", email="grace@navy.example", company="US Navy",
                          status="qualified", fit_score=95, suggested_engagement="engineer",
                          created_at=NOW - timedelta(days=2)),
        "alan": add_lead(app, "Alan Turing", email="alan@bletchley.example",
                         company="Bletchley Park", status="won", fit_score=60,
                         source_article="other-article", created_at=NOW - timedelta(days=1)),
    }  # fmt: skip


def test_anonymous_visitors_are_sent_to_login_for_the_list_and_refused_the_csv(client):
    response = client.get("/owner/leads?status=new")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/owner/login?next=")
    assert client.get("/owner/leads.csv").status_code == 401
    assert client.post("/owner/leads/bulk-status", data={"status": "won"}).status_code == 302


def test_search_finds_name_email_or_company_ignoring_case(owner, three_leads):
    assert listed(owner, q="LOVELACE") == ["Ada Lovelace"]
    assert listed(owner, q="navy.EXAMPLE") == ["Grace Hopper"]
    assert listed(owner, q="  bletchley   park ") == ["Alan Turing"]
    # One letter finds the start of a word (too short for trigrams): not Grace's "navy".
    assert listed(owner, q="a") == ["Alan Turing", "Ada Lovelace"]
    assert listed(owner, q="%") == [] and listed(owner, q="_") == []  # literal, not wildcards


def test_status_filter_takes_one_or_several_statuses(owner, three_leads):
    assert listed(owner, status="new") == ["Ada Lovelace"]
    assert listed(owner, status=["won", "qualified"]) == ["Alan Turing", "Grace Hopper"]


def test_article_and_engagement_filters(owner, three_leads):
    assert listed(owner, article=ARTICLE_SLUG) == ["Ada Lovelace"]
    assert listed(owner, article="no-such-article") == []
    assert listed(owner, engagement="engineer") == ["Grace Hopper"]
    assert listed(owner, engagement="architect", status="won") == ["Alan Turing"]


def owner_zone(app, timezone: str) -> None:
    with app.app_context():
        save_values(db.session, AvailabilityValues(timezone=timezone))
        db.session.commit()


def test_date_range_takes_whole_days_of_the_owner_zone_at_both_ends(app, owner):
    owner_zone(app, "Asia/Tokyo")  # UTC+9: a Tokyo day starts at 15:00 UTC the day before
    add_lead(app, "Before", created_at=datetime(2026, 3, 1, 14, 59, 59, tzinfo=UTC))
    add_lead(app, "First Day", created_at=datetime(2026, 3, 1, 15, 0, tzinfo=UTC))
    add_lead(app, "Last Day", created_at=datetime(2026, 3, 4, 14, 59, 59, tzinfo=UTC))
    add_lead(app, "After", created_at=datetime(2026, 3, 4, 15, 0, tzinfo=UTC))
    assert listed(owner, **{"from": "2026-03-02", "to": "2026-03-04"}) == ["Last Day", "First Day"]
    assert listed(owner, **{"from": "2026-03-04", "to": "2026-03-02"}) == ["Last Day", "First Day"]
    assert listed(owner, **{"from": "2026-03-05"}) == ["After"]
    assert listed(owner, to="2026-03-01") == ["Before"]


def test_list_shows_created_and_next_call_in_the_owner_zone_and_names_it(app, owner):
    owner_zone(app, "America/New_York")  # UTC-5 in January
    add_lead(
        app,
        "Late Night",
        created_at=datetime(2026, 1, 11, 3, 30, tzinfo=UTC),  # 10 January, 22:30 in New York
        next_call_at=datetime(2026, 1, 12, 14, 0, tzinfo=UTC),
    )
    page = owner.get("/owner/leads").get_data(as_text=True)
    assert "(UTC)" not in page
    assert re.search(r'datetime="2026-01-11T03:30:00\+00:00">2026-01-10</time>', page)
    assert re.search(r'datetime="2026-01-12T14:00:00\+00:00">2026-01-12 09:00</time>', page)
    assert "times in America/New_York (E" in page  # EST or EDT, named once, in the caption
    assert listed(owner, **{"from": "2026-01-10", "to": "2026-01-10"}) == ["Late Night"]


def test_newest_and_best_fit_orders(owner, three_leads):
    assert listed(owner) == ["Alan Turing", "Grace Hopper", "Ada Lovelace"]
    assert listed(owner, sort="score") == ["Grace Hopper", "Ada Lovelace", "Alan Turing"]


def test_equal_scores_keep_a_stable_order_by_id(app, owner):
    ids = [add_lead(app, f"Tied {n}", fit_score=70) for n in range(3)]
    assert listed(owner, sort="score") == ["Tied 2", "Tied 1", "Tied 0"]
    assert ids == sorted(ids)


def test_next_call_order_puts_upcoming_calls_first_soonest_first(app, owner):
    add_lead(app, "No Call", created_at=NOW - timedelta(hours=1))
    add_lead(app, "Call Past", next_call_at=NOW - timedelta(days=2), created_at=NOW)
    add_lead(app, "Call Later", next_call_at=NOW + timedelta(days=5))
    add_lead(app, "Call Soon", next_call_at=NOW + timedelta(days=1))
    add_lead(app, "Old No Call", created_at=NOW - timedelta(days=30))
    assert listed(owner, sort="next_call") == [
        "Call Soon", "Call Later", "Call Past", "No Call", "Old No Call",
    ]  # fmt: skip


@pytest.mark.parametrize("sort", ["newest", "score", "next_call"])
def test_every_page_follows_the_query_order_with_nothing_skipped(app, sort):
    lead_filter = LeadFilter(sort=sort, statuses=("new", "call_booked", "qualified"))
    with app.app_context():
        insert_fake_leads(db.session, 230, seed=7, now=NOW, article_slugs=[ARTICLE_SLUG])
        expected = [lead.id for lead in db.session.scalars(lead_query(lead_filter, NOW))]
        shown, page, pages = [], 0, 1
        while page < pages:
            page += 1
            found = page_of(db.session, replace(lead_filter, page=page), NOW, per_page=7)
            shown += [lead.id for lead in found.leads]
            pages = found.pages
        upcoming = db.session.scalar(
            select(func.count()).where(Lead.id.in_(expected), Lead.next_call_at >= NOW)
        )
    assert shown == expected and found.total == len(expected) > 100
    assert 7 < upcoming < len(expected) - 7  # both parts span several pages


def test_pagination_links_keep_the_filters(app, owner):
    for number in range(60):
        add_lead(app, f"Match {number:02}", status="qualified", company="Acme Widgets",
                 created_at=NOW - timedelta(minutes=number))  # fmt: skip
    add_lead(app, "Other Status", status="lost", company="Acme Widgets")
    html = owner.get("/owner/leads?q=acme&status=qualified").get_data(as_text=True)
    assert "60 leads match these filters" in html
    assert names_in(html)[0] == "Match 00" and len(names_in(html)) == 50
    next_link = re.search(r'<a rel="next" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    query = parse_qs(urlsplit(next_link).query)
    assert query.pop("cursor") and query == {"q": ["acme"], "status": ["qualified"]}
    second = owner.get(next_link).get_data(as_text=True)
    assert names_in(second) == [f"Match {n}" for n in range(50, 60)]
    assert "Page 2 of 2" in second
    assert (
        names_in(owner.get("/owner/leads?q=acme&status=qualified&page=9").get_data(as_text=True))[
            -1
        ]
        == "Match 59"
    )  # past the end: the last page


def test_a_bookmarked_view_shows_the_same_leads_in_a_new_session(app, client, owner, three_leads):
    url = "/owner/leads?q=e&status=new&status=qualified&sort=score"
    before = listed(owner, **parse_qs(urlsplit(url).query))
    owner.post("/owner/logout")
    client.post("/owner/login", data={"email": OWNER_EMAIL, "password": OWNER_PASSWORD})
    assert (
        names_in(client.get(url).get_data(as_text=True))
        == before
        == ["Grace Hopper", "Ada Lovelace"]
    )


def test_a_filter_survives_the_round_trip_through_its_query_string():
    lead_filter = LeadFilter(
        q="ada", statuses=("new", "won"), article=ARTICLE_SLUG, engagement="engineer",
        date_from=date(2026, 1, 1), date_to=date(2026, 2, 1), sort="next_call", page=3,
    )  # fmt: skip
    query = lead_filter.to_query()
    args = MultiDict([(key, v) for key, value in query.items() for v in listify(value)])
    assert LeadFilter.from_args(args) == lead_filter
    assert LeadFilter().to_query() == {} and not LeadFilter(sort="score").is_filtered


def listify(value):
    return value if isinstance(value, list) else [str(value)]


BAD_QUERIES = [
    {"page": "abc"}, {"page": "-1"}, {"page": "0"}, {"page": "9" * 5000}, {"page": "٣"},
    {"from": "2026-13-45"}, {"to": "yesterday"}, {"from": "9999-12-31"}, {"to": "0001-01-01"},
    {"sort": "name; DROP TABLE lead"}, {"status": "bogus"}, {"engagement": "x"},
    {"q": "x" * 10_000}, {"q": "nul\x00byte"}, {"article": "\x00"}, {"q": "\\"}, {"q": "'; --"},
]  # fmt: skip


def test_bad_filter_values_are_ignored_never_an_error(owner, three_leads):
    for query in BAD_QUERIES:
        assert owner.get("/owner/leads", query_string=query).status_code == 200, query
        assert owner.get("/owner/leads.csv", query_string=query).status_code == 200, query
    assert listed(owner, page="abc", sort="bogus", status=["bogus", "won"]) == ["Alan Turing"]


def test_opening_the_list_records_the_visit_and_marks_what_is_new(app, owner):
    add_lead(app, "Seen Before", created_at=NOW - timedelta(days=2))
    owner.get("/owner/leads")
    with app.app_context():
        first_visit = db.session.scalar(select(Owner.last_seen_leads_at))
    assert first_visit is not None and abs(first_visit - datetime.now(UTC)) < timedelta(minutes=1)
    add_lead(app, "Arrived Since", created_at=datetime.now(UTC))
    html = owner.get("/owner/leads").get_data(as_text=True)
    assert html.count("New since your last visit") == 1
    assert html.index("New since your last visit") > html.index("Arrived Since")


def test_bulk_status_change_writes_events_and_keeps_won_counts_right(app, owner):
    today = datetime.now(UTC).date()
    ada = add_lead(app, "Ada", source_article=ARTICLE_SLUG)
    grace = add_lead(app, "Grace", source_article=ARTICLE_SLUG, status="won")
    alan = add_lead(app, "Alan")  # no source article: no count to keep
    with app.app_context():  # Grace's win, counted on the day it happened
        upsert_counts(
            db.session.connection(), {(ARTICLE_SLUG, today - timedelta(days=9), "won"): 1}
        )
        db.session.commit()

    response = owner.post(
        "/owner/leads/bulk-status?status=new&sort=score",
        data={"status": "won", "lead_ids": [str(ada), str(grace), str(alan)]},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/owner/leads?status=new&sort=score"
    assert "2 leads moved to Won." in owner.get(response.headers["Location"]).get_data(as_text=True)
    assert statuses(app) == {"Ada": "won", "Grace": "won", "Alan": "won"}
    assert events(app) == [(ada, "new", "won"), (alan, "new", "won")]
    assert won_total(app) == 2 == won_from_article(app)

    owner.post(
        "/owner/leads/bulk-status", data={"status": "lost", "lead_ids": [str(grace), str(ada)]}
    )
    assert statuses(app) == {"Ada": "lost", "Grace": "lost", "Alan": "won"}
    assert won_total(app) == 0 == won_from_article(app)
    with app.app_context():
        event = db.session.scalars(select(LeadEvent).order_by(LeadEvent.id)).all()[-1]
    assert (event.kind, event.body, event.from_status, event.to_status) == (
        "status", "Bulk change", "won", "lost"
    )  # fmt: skip


@pytest.mark.parametrize(
    "data",
    [
        {"status": "promoted", "lead_ids": ["LEAD"]},
        {"status": "", "lead_ids": ["LEAD"]},
        {"status": "won", "lead_ids": ["LEAD", "1; DROP TABLE lead"]},
        {"status": "won", "lead_ids": ["LEAD", "-3"]},
        {"status": "won"},
    ],
)
def test_a_bad_bulk_request_changes_nothing(app, owner, data):
    lead = add_lead(app, "Ada", source_article=ARTICLE_SLUG)
    data = {**data, "lead_ids": [str(lead) if v == "LEAD" else v for v in data.get("lead_ids", [])]}
    response = owner.post("/owner/leads/bulk-status?q=ada", data=data)
    assert response.status_code == 303 and response.headers["Location"] == "/owner/leads?q=ada"
    assert "nothing changed" in owner.get("/owner/leads").get_data(as_text=True)
    assert statuses(app) == {"Ada": "new"} and events(app) == [] and won_total(app) == 0


@pytest.fixture
def with_csrf(settings):
    settings["WTF_CSRF_ENABLED"] = True
    return settings


def test_bulk_status_needs_the_csrf_token(with_csrf, app, client, owner_account):
    lead = str(add_lead(app, "Ada"))
    login_page = client.get("/owner/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', login_page).group(1)
    data = {"email": OWNER_EMAIL, "password": OWNER_PASSWORD, "csrf_token": token}
    assert client.post("/owner/login", data=data).status_code == 303
    client.post("/owner/leads/bulk-status", data={"status": "won", "lead_ids": [lead]})
    assert statuses(app) == {"Ada": "new"}
    page = client.get("/owner/leads").get_data(as_text=True)
    token = re.search(r'class="bulk-form".*?name="csrf_token" value="([^"]+)"', page, re.S).group(1)
    client.post(
        "/owner/leads/bulk-status", data={"status": "won", "lead_ids": [lead], "csrf_token": token}
    )
    assert statuses(app) == {"Ada": "won"}


def statuses(app) -> dict[str, str]:
    with app.app_context():
        return dict(db.session.execute(select(Lead.name, Lead.status)).all())


def events(app) -> list[tuple]:
    with app.app_context():
        query = select(LeadEvent.lead_id, LeadEvent.from_status, LeadEvent.to_status)
        return [tuple(row) for row in db.session.execute(query.order_by(LeadEvent.id))]


def won_total(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.coalesce(func.sum(ArticleDailyStat.won), 0)))


def won_from_article(app) -> int:
    with app.app_context():
        query = select(func.count()).where(Lead.status == "won", Lead.source_article.is_not(None))
        return db.session.scalar(query)


def test_csv_has_the_header_and_one_row_per_matching_lead(app, owner, three_leads):
    add_lead(app, "Tagged", status="won", fit_score=99, first_touch={
        "utm_source": "linkedin", "utm_medium": "social", "utm_campaign": "spring",
        "referrer": "https://www.linkedin.com/", "landing": "/library/x",
    }, next_call_at=datetime(2030, 1, 2, 9, 30, tzinfo=UTC))  # fmt: skip
    response = owner.get("/owner/leads.csv?status=won&sort=score")
    assert response.mimetype == "text/csv"
    today = datetime.now(UTC).date().isoformat()
    assert response.headers["Content-Disposition"] == f'attachment; filename="leads-{today}.csv"'
    rows = csv_of(owner, status="won", sort="score")
    assert tuple(rows[0]) == CSV_HEADER
    assert [row[2] for row in rows[1:]] == ["Tagged", "Alan Turing"]
    tagged = dict(zip(CSV_HEADER, rows[1], strict=True))
    assert tagged["next_call_at"] == "2030-01-02T09:30:00+00:00"
    assert datetime.fromisoformat(tagged["created_at"]).utcoffset() == timedelta(0)
    assert (tagged["utm_source"], tagged["utm_medium"], tagged["utm_campaign"]) == (
        "linkedin", "social", "spring"
    )  # fmt: skip
    assert tagged["referrer"] == "https://www.linkedin.com/" and tagged["fit_score"] == "99"
    assert len(csv_of(owner)) == 1 + 4 and len(csv_of(owner, q="zzz")) == 1


def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised(app, owner):
    add_lead(app, '=HYPERLINK("http://evil.example","click")', email="@SUM(A1:A9)@x.example",
             company="+1", role="-2", source_article="\tTabbed", first_touch={
                 "utm_source": "\rCarriage", "utm_campaign": "=cmd|' /C calc'!A0"})  # fmt: skip
    row = dict(zip(CSV_HEADER, csv_of(owner)[1], strict=True))
    assert row["name"] == '\'=HYPERLINK("http://evil.example","click")'
    assert row["email"] == "'@SUM(A1:A9)@x.example"
    assert (row["company"], row["role"]) == ("'+1", "'-2")
    assert row["source_article"] == "'\tTabbed"
    assert row["utm_source"] == "'\rCarriage" and row["utm_campaign"].startswith("'=cmd")
    assert spreadsheet_safe("a=1") == "a=1" and spreadsheet_safe(-5) == -5


def test_csv_is_streamed_in_many_chunks(app, owner):
    with app.app_context():
        insert_fake_leads(db.session, 1800, seed=3, now=NOW, article_slugs=[ARTICLE_SLUG])
    response = owner.get("/owner/leads.csv", buffered=False)
    assert response.is_streamed
    chunks = list(response.response)
    response.close()
    assert len(chunks) >= 4
    assert b"".join(chunks).count(b"\r\n") == 1801


def test_visitor_text_is_shown_escaped_on_the_list(app, owner):
    add_lead(app, XSS, email=XSS, company=XSS, role=XSS, source_article=XSS)
    html = owner.get("/owner/leads").get_data(as_text=True)
    assert "<script>alert" not in html and "<b>x</b>" not in html
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;&lt;b&gt;x&lt;/b&gt;"
    assert html.count(escaped) >= 4  # name, the checkbox's label, email, company, source
    assert 'aria-label="Filter leads"' in html  # the page rendered whole


def test_the_csv_is_served_as_inert_text(app, owner):
    add_lead(app, XSS, email=XSS, company=XSS)
    response = owner.get("/owner/leads.csv")
    assert (
        response.mimetype == "text/csv" and response.headers["X-Content-Type-Options"] == "nosniff"
    )
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["Cache-Control"] == "no-store, private"


def test_a_lead_booked_through_the_site_is_listed_under_its_article(visitor, owner):
    assert visitor.book().status_code in (302, 303)
    assert listed(owner, article=ARTICLE_SLUG, q="analytical") == ["Ada Lovelace"]
    assert listed(owner, sort="next_call") == ["Ada Lovelace"]


def test_fake_leads_command_inserts_the_count_it_is_given(app, runner):
    result = runner.invoke(fake_leads_cli, ["250", "--seed", "5"])
    assert result.exit_code == 0, result.output
    assert "Inserted 250 fake leads" in result.output
    assert runner.invoke(fake_leads_cli, ["10"]).exit_code == 0  # a second run adds, no clash
    with app.app_context():
        assert db.session.scalar(select(func.count(Lead.id))) == 260
        assert len(set(db.session.scalars(select(Lead.status)))) >= 6
        assert won_total(app) == won_from_article(app)


def test_at_100000_leads_the_csv_has_every_row_and_the_list_pages_answer(app, owner):
    started = time.perf_counter()
    with app.app_context():
        insert_fake_leads(db.session, 100_000, seed=2026, now=NOW, article_slugs=[ARTICLE_SLUG])
    inserted = time.perf_counter()

    response = owner.get("/owner/leads.csv", buffered=False)
    assert response.is_streamed
    lines = chunks = 0
    for chunk in response.response:
        lines += chunk.count(b"\r\n")
        chunks += 1
    response.close()
    assert lines == 100_001 and chunks >= 100
    exported = time.perf_counter()

    first = owner.get("/owner/leads").get_data(as_text=True)
    assert "10,000+ leads" in first and len(names_in(first)) == 50  # counting stops at the cap
    last = owner.get(f"/owner/leads?sort=score&page={MAX_PAGE}").get_data(as_text=True)
    assert f"Page {MAX_PAGE}</li>" in last and len(names_in(last)) == 50
    after = re.search(r'<a rel="next" href="([^"]+)"', last).group(1).replace("&amp;", "&")
    deeper = owner.get(after).get_data(as_text=True)  # Next goes on past the numbered pages
    assert f"Page {MAX_PAGE + 1}</li>" in deeper and len(names_in(deeper)) == 50
    print(
        f"\n100,000 leads: insert {inserted - started:.1f} s, CSV {exported - inserted:.1f} s, "
        f"two list pages {time.perf_counter() - exported:.2f} s"
    )


def test_csv_is_the_text_pythons_csv_module_writes_on_every_database(app, owner):
    """PostgreSQL writes the CSV itself (COPY); its cells must equal Python's, byte for byte."""
    add_lead(app, 'Quote "me", please', email="q@x.example", company="", role="Line\nbreak",
             source_article=None, first_touch={"utm_source": "-x", "referrer": ""},
             next_call_at=datetime(2030, 1, 2, 9, 30, 0, 123456, tzinfo=UTC))  # fmt: skip
    add_lead(
        app, "=Plain", email="p@x.example", created_at=datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)
    )
    with app.app_context():
        insert_fake_leads(db.session, 300, seed=4, now=NOW, article_slugs=[ARTICLE_SLUG])
        for query in ({}, {"sort": "next_call"}, {"status": ["won", "lost"], "sort": "score"}):
            lead_filter = LeadFilter.from_args(MultiDict(query))
            expected = "".join(csv_chunks(csv_rows(db.session, lead_filter, NOW)))
            got = owner.get("/owner/leads.csv", query_string=query).get_data(as_text=True)
            assert got == expected, query
