"""The owner's dashboard: calls in the owner's zone, new leads, the funnel and its chart."""

import re
from datetime import UTC, date, datetime, time, timedelta
from itertools import count
from zoneinfo import ZoneInfo

import pytest

from domain.booking.availability import AvailabilityValues, save_values
from domain.leads.charts import funnel_chart, sparkline
from domain.leads.funnel import ArticleFunnel, DayTotals
from extensions import db
from models import ArticleDailyStat, Booking, Lead, Owner
from tests.conftest import ARTICLE_SLUG, call_row

numbers = count(1)


def add_lead(app, name="Grace Hopper", company="Compilers Inc", created_at=None, fit=64) -> int:
    n = next(numbers)
    with app.app_context():
        lead = Lead(
            email=f"lead{n}@example.test",
            email_normalised=f"lead{n}@example.test",
            name=name,
            company=company,
            role="CTO",
            company_size="51-200",
            fit_score=fit,
            suggested_engagement="architect",
            consent_version="v1",
            consent_given_at=datetime.now(UTC),
            created_at=created_at or datetime.now(UTC),
        )
        db.session.add(lead)
        db.session.commit()
        return lead.id


def add_call(app, lead_id: int, starts_at: datetime, status="active") -> int:
    with app.app_context():
        call = call_row(starts_at, lead_id=lead_id, status=status)
        db.session.add(call)
        db.session.commit()
        return call.id


def owner_zone(app, timezone: str) -> None:
    with app.app_context():
        save_values(db.session, AvailabilityValues(timezone=timezone))
        db.session.commit()


def section(html: str, heading_id: str) -> str:
    start = html.index(f'id="{heading_id}"')
    end = html.find("</section>", start)
    return html[start:end]


def page(client, **query) -> str:
    response = client.get("/owner/", query_string=query)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def funnel_row(html: str, label: str) -> list[str]:
    table = section(html, "funnel-heading")
    row = re.search(
        rf"<tr[^>]*>\s*<th scope=\"row\">(?:<a [^>]*>)?{re.escape(label)}.*?</tr>", table, re.S
    )
    assert row, f"no funnel row for {label!r}"
    return re.findall(r'<td class="num">([^<]*)</td>', row.group(0))


def the_svg(html: str) -> str:
    return re.search(r"<svg .*?</svg>", section(html, "funnel-heading"), re.S).group(0)


# -- login ------------------------------------------------------------------------------


def test_anonymous_visitor_is_sent_to_login(client):
    response = client.get("/owner/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/owner/login")


# -- calls ------------------------------------------------------------------------------


def test_todays_call_is_shown_in_the_owners_zone_which_is_named(app, owner):
    owner_zone(app, "Asia/Tokyo")
    tokyo = ZoneInfo("Asia/Tokyo")
    today = datetime.now(tokyo).date()
    lead = add_lead(app, name="Grace Hopper", company="Compilers Inc", fit=83)
    add_call(app, lead, datetime.combine(today, time(15, 30), tzinfo=tokyo))
    html = page(owner)
    assert "Asia/Tokyo (JST)" in html
    today_part = section(html, "today-heading")
    assert "15:30" in today_part
    assert f'<a href="/owner/leads/{lead}">Grace Hopper</a>' in today_part
    assert "Compilers Inc" in today_part and ">83<" in today_part
    assert "Grace Hopper" not in section(html, "next-heading")


def test_a_call_tomorrow_in_the_owners_zone_is_not_today(app, owner):
    owner_zone(app, "Pacific/Auckland")
    zone = ZoneInfo("Pacific/Auckland")
    tomorrow = datetime.now(zone).date() + timedelta(days=1)
    add_call(
        app,
        add_lead(app, name="Ken Thompson"),
        datetime.combine(tomorrow, time(0, 30), tzinfo=zone),
    )
    html = page(owner)
    assert "Ken Thompson" not in section(html, "today-heading")
    assert "Ken Thompson" in section(html, "next-heading")


def test_a_call_booked_through_the_pages_is_among_the_next_calls(app, owner, visitor):
    assert visitor.book().status_code == 303
    with app.app_context():
        call = db.session.query(Booking).one()
        starts = call.starts_at.astimezone(ZoneInfo("Europe/London"))
    next_part = section(page(owner), "next-heading")
    assert "Ada Lovelace" in next_part and "Analytical Engines Ltd" in next_part
    assert starts.strftime("%a %-d %b, %H:%M") in next_part


def test_next_calls_are_the_ten_earliest_active_ones_after_today(app, owner):
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
    add_call(app, add_lead(app, name="Cancelled Carl"), start, status="cancelled")
    for day in range(12):
        add_call(app, add_lead(app, name=f"Lead number {day:02d}"), start + timedelta(days=day))
    next_part = section(page(owner), "next-heading")
    assert next_part.count("/owner/leads/") == 10
    assert "Lead number 00" in next_part and "Lead number 09" in next_part
    assert "Lead number 10" not in next_part and "Cancelled Carl" not in next_part


def test_no_calls_says_so(owner):
    html = page(owner)
    assert "No calls today." in html and "No calls booked after today." in html


# -- new leads --------------------------------------------------------------------------


def test_new_leads_are_those_created_since_the_last_visit_newest_first(app, owner):
    now = datetime.now(UTC)
    add_lead(app, name="Seen Before", created_at=now - timedelta(days=2))
    add_lead(app, name="New Older", created_at=now - timedelta(hours=3))
    add_lead(app, name="New Newest", created_at=now - timedelta(minutes=5))
    with app.app_context():
        account = db.session.query(Owner).one()
        account.last_seen_leads_at = now - timedelta(days=1)
        db.session.commit()
    leads_part = section(page(owner), "leads-heading")
    assert "Seen Before" not in leads_part
    assert leads_part.index("New Newest") < leads_part.index("New Older")
    assert "<strong>2</strong> new leads" in leads_part
    assert 'href="/owner/leads?sort=newest"' in leads_part


def test_without_a_last_visit_new_leads_are_those_of_the_last_seven_days(app, owner):
    now = datetime.now(UTC)
    add_lead(app, name="Eight Days Old", created_at=now - timedelta(days=8))
    add_lead(app, name="Six Days Old", created_at=now - timedelta(days=6))
    leads_part = section(page(owner), "leads-heading")
    assert "Six Days Old" in leads_part and "Eight Days Old" not in leads_part
    assert "in the last 7 days" in leads_part


def test_at_most_twenty_new_leads_are_listed_with_the_full_count(app, owner):
    now = datetime.now(UTC)
    for n in range(23):
        add_lead(app, name=f"Lead {n:02d}", created_at=now - timedelta(minutes=n + 1))
    leads_part = section(page(owner), "leads-heading")
    assert "<strong>23</strong> new leads" in leads_part
    assert leads_part.count("<li>") == 20
    assert "Lead 00" in leads_part and "Lead 22" not in leads_part


# -- funnel -----------------------------------------------------------------------------


def test_funnel_numbers_match_the_counters_of_real_visits(app, owner, visitor, client):
    for _ in range(3):
        client.get(f"/library/{ARTICLE_SLUG}")
    client.get("/book", query_string={"article": ARTICLE_SLUG})
    assert visitor.book().status_code == 303
    cells = funnel_row(page(owner), "AI Systems Architect vs AI Engineer")
    # views, clicks, click rate, bookings, conversion rate, won
    assert cells == ["3", "1", "33.3%", "1", "33.3%", "0"]
    assert funnel_row(page(owner), "All articles") == cells


def test_funnel_period_selector_chooses_the_days_summed(app, owner):
    today = datetime.now(UTC).date()
    with app.app_context():
        db.session.add_all(
            [
                ArticleDailyStat(slug=ARTICLE_SLUG, day=today, views=10, cta_clicks=2),
                ArticleDailyStat(slug=ARTICLE_SLUG, day=today - timedelta(days=45), views=990),
            ]
        )
        db.session.commit()
    assert funnel_row(page(owner), "All articles")[:3] == ["10", "2", "20.0%"]
    assert funnel_row(page(owner, period="90d"), "All articles")[:3] == ["1,000", "2", "0.2%"]
    old = (today - timedelta(days=45)).isoformat()
    custom = page(owner, period="custom", **{"from": old, "to": old})
    assert funnel_row(custom, "All articles")[:3] == ["990", "0", "0.0%"]
    assert '<option value="custom" selected>' in custom


@pytest.mark.parametrize(
    "query",
    [{"period": "forever"}, {"period": "custom", "from": "2026-02-31"}, {"from": "x", "to": "y"}],
)
def test_bad_period_falls_back_to_thirty_days_not_an_error(owner, query):
    html = page(owner, **query)
    assert "Last 30 days" in html
    assert '<option value="30d" selected>' in html


def test_rates_without_views_show_a_dash(app, owner):
    with app.app_context():
        db.session.add(ArticleDailyStat(slug=ARTICLE_SLUG, day=datetime.now(UTC).date()))
        db.session.commit()
    assert funnel_row(page(owner), "AI Systems Architect vs AI Engineer") == [
        "0",
        "0",
        "—",
        "0",
        "—",
        "0",
    ]


def test_stats_of_a_retired_slug_show_by_slug_truncated_in_the_chart_only(app, owner):
    slug = "a-retired-article-whose-slug-is-far-too-long-to-fit-on-one-line-of-the-chart-x"
    with app.app_context():
        db.session.add(ArticleDailyStat(slug=slug, day=datetime.now(UTC).date(), views=7))
        db.session.commit()
    html = page(owner)
    assert funnel_row(html, slug)[0] == "7"
    svg = the_svg(html)
    assert slug not in svg and "…" in svg


def test_funnel_chart_is_an_accessible_svg_without_inline_style_or_script(app, owner):
    with app.app_context():
        db.session.add(
            ArticleDailyStat(slug=ARTICLE_SLUG, day=datetime.now(UTC).date(), views=40, bookings=2)
        )
        db.session.commit()
    svg = the_svg(page(owner))
    assert 'role="img"' in svg
    assert 'aria-labelledby="funnel-chart-title funnel-chart-desc"' in svg
    assert re.search(
        r'<title id="funnel-chart-title">Funnel per article · Last 30 days</title>', svg
    )
    assert '<desc id="funnel-chart-desc">' in svg
    assert 'class="bar bar-views"' in svg and 'class="bar bar-bookings"' in svg
    assert "style=" not in svg and "<script" not in svg.lower()


def test_dashboard_page_has_no_inline_style_or_script(owner):
    html = page(owner)
    assert "style=" not in html and "<script" not in html.lower()


# -- the chart functions ----------------------------------------------------------------


def test_article_title_with_markup_is_escaped_in_the_chart():
    title = '<script>alert("x")</script> & <b>bold</b>'
    svg = str(funnel_chart([ArticleFunnel("x", title, views=5, bookings=1)], period="<i>"))
    assert "<script" not in svg and "<b>" not in svg and "<i>" not in svg
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;" in svg


def test_long_title_is_cut_with_an_ellipsis_in_the_chart():
    title = "How an operating model for AI " * 5
    svg = str(funnel_chart([ArticleFunnel("x", title, views=1)]))
    label = re.search(r'class="chart-article"[^>]*>([^<]*)</text>', svg).group(1)
    assert label.endswith("…") and len(label) <= 70


@pytest.mark.parametrize(
    "rows", [[], [ArticleFunnel("x", "Nothing yet"), ArticleFunnel("y", "Nor here")]]
)
def test_no_data_gives_an_empty_state_chart(rows):
    svg = str(funnel_chart(rows))
    assert 'class="chart chart-empty"' in svg and 'role="img"' in svg
    assert "No views, clicks or bookings in this period." in svg
    assert '<rect class="bar' not in svg


def test_bars_share_one_scale_and_a_small_count_stays_visible():
    svg = str(funnel_chart([ArticleFunnel("x", "T", views=1000, cta_clicks=500, bookings=1)]))
    widths = [float(w) for w in re.findall(r'class="bar bar-\w+"[^>]*width="([\d.]+)"', svg)]
    assert widths[0] == pytest.approx(2 * widths[1])
    assert 0 < widths[2] < widths[1] and widths[3] == 0


def test_sparkline_draws_views_and_bookings_per_day():
    days = [DayTotals(date(2026, 5, d), views=d, bookings=d % 2) for d in range(1, 8)]
    svg = str(sparkline(days))
    assert 'class="line line-views"' in svg and 'class="line line-bookings"' in svg
    assert "28 views and 4 bookings" in svg and "style=" not in svg
    assert 'class="chart chart-empty"' in str(sparkline([DayTotals(date(2026, 5, 1))]))
