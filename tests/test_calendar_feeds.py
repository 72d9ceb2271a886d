"""Busy times from the owner's calendar feeds, as a visitor sees them on /book.

A real HTTP server on loopback serves each feed (tests/feed_server.py); the app reads
it the way the worker does, and the test looks at the times /book offers.
"""

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain.booking.availability import AvailabilityValues, save_values
from domain.booking.tokens import utc_now
from domain.calendar.feeds import FetchOptions, is_public_address, options_from_settings
from domain.calendar.owner_feeds import FeedRefused, add_feed
from domain.calendar.sync import SYNC_PERIOD, claim_feed, sync_all, sync_calendars
from extensions import db
from models import BusyInterval, CalendarFeed
from tests.feed_server import FeedServer, calendar_text, vevent

LONDON = ZoneInfo("Europe/London")
pytestmark = pytest.mark.usefixtures("allow_private")


def owner_hours(app, horizon_days: int = 20) -> None:
    """Every day 08:00–18:00 London, 60-minute calls, no buffer, 24 h notice."""
    values = AvailabilityValues(
        timezone="Europe/London",
        weekly_hours={str(day): [["08:00", "18:00"]] for day in range(7)},
        call_minutes=60,
        buffer_minutes=0,
        min_notice_minutes=24 * 60,
        horizon_days=horizon_days,
        daily_limit=None,
        dates_off=[],
    )
    with app.app_context():
        save_values(db.session, values)
        db.session.commit()


@pytest.fixture
def hours(app):
    owner_hours(app)


def day_ahead(days: int) -> date:
    return datetime.now(LONDON).date() + timedelta(days=days)


def at(day: date, hour: int) -> datetime:
    """`hour`:00 London wall-clock on `day`, as a UTC instant."""
    return datetime.combine(day, time(hour), tzinfo=LONDON).astimezone(UTC)


def stamp(day: date, hour: int = 0) -> str:
    return day.strftime("%Y%m%d") + f"T{hour:02d}0000"


def offered(client, day: date) -> set[datetime]:
    """The times /book offers on `day` (London), as UTC instants."""
    page = client.get(
        "/book", query_string={"timezone": "Europe/London", "day": day.isoformat()}
    ).get_data(as_text=True)
    found = {unquote(value) for value in re.findall(r"slot=([0-9T%A-Z:\-]+Z)", page)}
    instants = {datetime.strptime(v, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC) for v in found}
    # A day with no free time shows the nearest days instead: keep only this day's.
    return {instant for instant in instants if instant.astimezone(LONDON).date() == day}


def add(app, url: str, name: str = "Work"):
    with app.app_context():
        return add_feed(
            db.session, url, name, now=utc_now(), options=options_from_settings(app.config)
        )


def sync_now(app):
    with app.app_context():
        return sync_calendars(db.session, app.config, now=utc_now(), period=timedelta(0))


def feed_row(app) -> CalendarFeed:
    with app.app_context():
        feed = db.session.scalar(select(CalendarFeed))
        db.session.expunge(feed)
        return feed


def interval_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(BusyInterval.id)))


def meeting(day: date, start_hour: int, end_hour: int, uid: str = "meeting", *lines: str) -> str:
    return vevent(
        uid,
        f";TZID=Europe/London:{stamp(day, start_hour)}",
        f";TZID=Europe/London:{stamp(day, end_hour)}",
        *lines,
    )


def test_a_busy_event_takes_its_slot_off_book(app, client, hours, feed_server):
    day = day_ahead(3)
    assert at(day, 10) in offered(client, day)
    url = feed_server.serve("/work.ics", calendar_text(meeting(day, 10, 11)))
    added = add(app, url)
    assert added.copy.count == 1
    free = offered(client, day)
    assert at(day, 10) not in free
    assert {at(day, 9), at(day, 11)} <= free


def next_march_change(after: date) -> date:
    """The last Sunday of March (London's clocks go forward) after `after`."""
    for year in (after.year, after.year + 1):
        last = date(year, 3, 31)
        sunday = last - timedelta(days=(last.weekday() + 1) % 7)
        if sunday > after:
            return sunday
    raise AssertionError("unreachable")


def test_weekly_meeting_keeps_its_london_time_across_the_march_clock_change(
    app, client, feed_server
):
    change = next_march_change(day_ahead(9))
    first = change - timedelta(days=13)  # a Monday, two weeks before the change
    owner_hours(app, horizon_days=(change - day_ahead(0)).days + 10)
    series = meeting(first, 10, 11, "weekly", "RRULE:FREQ=WEEKLY;COUNT=4")
    add(app, feed_server.serve("/weekly.ics", calendar_text(series)))
    before, after = first + timedelta(days=7), first + timedelta(days=14)
    assert at(before, 10) == datetime.combine(before, time(10), tzinfo=UTC)  # GMT
    assert at(after, 10) == datetime.combine(after, time(9), tzinfo=UTC)  # BST
    for day in (first, before, after, first + timedelta(days=21)):
        free = offered(client, day)
        assert at(day, 10) not in free, day
        assert at(day, 11) in free and at(day, 9) in free, day


def test_an_all_day_event_blocks_the_whole_day(app, client, hours, feed_server):
    day = day_ahead(4)
    holiday = vevent(
        "offsite",
        f";VALUE=DATE:{day.strftime('%Y%m%d')}",
        f";VALUE=DATE:{(day + timedelta(days=1)).strftime('%Y%m%d')}",
    )
    add(app, feed_server.serve("/offsite.ics", calendar_text(holiday)))
    assert offered(client, day) == set()
    assert at(day + timedelta(days=1), 8) in offered(client, day + timedelta(days=1))


def test_a_cancelled_instance_and_an_excluded_one_free_their_times(app, client, hours, feed_server):
    first = day_ahead(3)
    series = meeting(
        first, 10, 11, "standup", "RRULE:FREQ=DAILY;COUNT=3",
        f"EXDATE;TZID=Europe/London:{stamp(first + timedelta(days=1), 10)}",
    )  # fmt: skip
    cancelled = meeting(
        first + timedelta(days=2), 10, 11, "standup",
        f"RECURRENCE-ID;TZID=Europe/London:{stamp(first + timedelta(days=2), 10)}",
        "STATUS:CANCELLED",
    )  # fmt: skip
    add(app, feed_server.serve("/standup.ics", calendar_text(series, cancelled)))
    assert at(first, 10) not in offered(client, first)
    for day in (first + timedelta(days=1), first + timedelta(days=2)):
        assert at(day, 10) in offered(client, day), day


def test_a_transparent_event_blocks_nothing(app, client, hours, feed_server):
    day = day_ahead(3)
    free_event = meeting(day, 10, 11, "reminder", "TRANSP:TRANSPARENT")
    add(app, feed_server.serve("/free.ics", calendar_text(free_event)))
    assert at(day, 10) in offered(client, day)


def test_floating_times_are_read_in_the_feeds_x_wr_timezone(app, client, hours, feed_server):
    day = day_ahead(3)
    floating = vevent("ny", f":{stamp(day, 10)}", f":{stamp(day, 11)}")
    text = calendar_text(floating, header=("X-WR-TIMEZONE:America/New_York",))
    add(app, feed_server.serve("/ny.ics", text))
    new_york_ten = datetime.combine(day, time(10), tzinfo=ZoneInfo("America/New_York"))
    free = offered(client, day)
    assert new_york_ten.astimezone(UTC) not in free
    assert at(day, 10) in free


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "streamed"])
def test_a_feed_over_5_mb_is_refused_and_blocks_nothing(app, client, hours, feed_server, declared):
    day = day_ahead(3)
    padding = "X-PADDING:" + "x" * 60
    body = calendar_text(meeting(day, 10, 11), *[padding] * (6 * 1024 * 1024 // 72))
    assert len(body) > 6_000_000
    url = feed_server.serve("/big.ics", body, declare_length=declared)
    with pytest.raises(FeedRefused, match="larger than 5 MB"):
        add(app, url)
    assert at(day, 10) in offered(client, day)
    with app.app_context():
        assert db.session.scalar(select(func.count(CalendarFeed.id))) == 0


def test_a_feed_that_starts_failing_keeps_its_last_copy(app, client, hours, feed_server):
    day = day_ahead(3)
    url = feed_server.serve("/flaky.ics", calendar_text(meeting(day, 10, 11)))
    add(app, url)
    first_success = feed_row(app).last_success_at
    feed_server.fail("/flaky.ics", 500)
    [result] = sync_now(app)
    assert not result.ok
    feed = feed_row(app)
    assert feed.last_error == "The calendar server answered 500."
    assert feed.last_success_at == first_success
    assert feed.event_count == 1
    assert at(day, 10) not in offered(client, day)


def test_a_feed_that_answers_304_was_asked_conditionally_and_keeps_blocking(
    app, client, hours, feed_server
):
    day = day_ahead(3)
    url = feed_server.serve("/same.ics", calendar_text(meeting(day, 10, 11)))
    add(app, url)
    etag = feed_row(app).etag
    [result] = sync_now(app)
    assert result.ok
    second = feed_server.requests("/same.ics")[-1]
    assert second.get("If-None-Match") == etag
    assert second.get("If-Modified-Since") == "Tue, 01 Dec 2026 06:00:00 GMT"
    assert feed_row(app).last_error is None
    assert at(day, 10) not in offered(client, day)


def test_a_changed_feed_replaces_its_busy_times(app, client, hours, feed_server):
    day = day_ahead(3)
    url = feed_server.serve("/moved.ics", calendar_text(meeting(day, 10, 11)))
    add(app, url)
    feed_server.serve("/moved.ics", calendar_text(meeting(day, 14, 15)))
    sync_now(app)
    free = offered(client, day)
    assert at(day, 10) in free
    assert at(day, 14) not in free
    assert interval_count(app) == 1


def test_a_feed_is_read_once_per_period_however_many_workers_ask(app, hours, feed_server):
    url = feed_server.serve("/once.ics", calendar_text(meeting(day_ahead(3), 10, 11)))
    add(app, url)
    later = utc_now() + timedelta(minutes=6)
    with app.app_context():
        options = options_from_settings(app.config)
        first = sync_all(db.session, now=later, options=options)
        second = sync_all(db.session, now=later + timedelta(seconds=30), options=options)
    assert [result.ok for result in first] == [True]
    assert second == []
    assert len(feed_server.requests("/once.ics")) == 2  # the add, then one sync


@pytest.mark.parametrize(
    "body, message",
    [
        ("<html><body>Sign in</body></html>", "not iCalendar data"),
        (calendar_text(header=("X-WR-TIMEZONE:Mars/Olympus_Mons",)), "time zone"),
    ],
)
def test_hostile_content_is_a_message_for_the_owner(app, hours, feed_server, body, message):
    url = feed_server.serve("/odd.ics", body)
    with pytest.raises(FeedRefused, match=message):
        add(app, url)


def test_a_broken_recurrence_blocks_what_it_can_and_never_crashes(app, client, hours, feed_server):
    day = day_ahead(3)
    broken = meeting(day, 12, 13, "broken", "RRULE:FREQ=SOMETIMES;COUNT=banana")
    url = feed_server.serve("/broken.ics", calendar_text(meeting(day, 10, 11), broken))
    try:
        add(app, url)
    except FeedRefused as refusal:  # refused with a message is fine; a crash is not
        assert refusal.field == "url" and refusal.message
    response = client.get("/book", query_string={"day": day.isoformat()})
    assert response.status_code == 200


def test_a_private_address_is_refused_without_calendar_allow_private(
    app, client, hours, feed_server
):
    day = day_ahead(3)
    url = feed_server.serve("/lan.ics", calendar_text(meeting(day, 10, 11)))
    with app.app_context(), pytest.raises(FeedRefused, match="private or local network"):
        add_feed(db.session, url, "", now=utc_now(), options=FetchOptions())
    assert feed_server.requests("/lan.ics") == []
    assert at(day, 10) in offered(client, day)


def test_a_redirect_to_loopback_is_refused(app, client, hours, feed_server):
    inner = FeedServer()
    try:
        threading.Thread(target=inner.serve_forever, daemon=True).start()
        day = day_ahead(3)
        target = inner.serve("/secret.ics", calendar_text(meeting(day, 10, 11)))
        start = feed_server.redirect("/start.ics", target)
        # The first server counts as public here; the hop to the second must be checked.
        first = f"127.0.0.1:{feed_server.server_address[1]}"
        options = FetchOptions(allowed_private=frozenset({first}))
        with app.app_context(), pytest.raises(FeedRefused, match="private or local network"):
            add_feed(db.session, start, "", now=utc_now(), options=options)
        assert inner.requests("/secret.ics") == []
        assert at(day, 10) in offered(client, day)
    finally:
        inner.shutdown()
        inner.server_close()


def test_redirects_within_allowed_addresses_are_followed(app, client, hours, feed_server):
    day = day_ahead(3)
    target = feed_server.serve("/real.ics", calendar_text(meeting(day, 10, 11)))
    add(app, feed_server.redirect("/old.ics", target, status=301))
    assert at(day, 10) not in offered(client, day)


@pytest.mark.parametrize(
    "url, message",
    [
        ("ftp://calendar.example/feed.ics", "https://"),
        ("javascript:alert(1)", "https://"),
        ("file:///etc/passwd", "https://"),
        ("https://", "no host"),
        ("https://calendar.example:http/feed.ics", "port"),
        ("https://calendar.example/a b.ics", "spaces or control"),
        ("https://calendar.example/" + "a" * 2100, "longer than"),
    ],
)
def test_addresses_that_are_not_http_feeds_are_refused(app, url, message):
    with pytest.raises(FeedRefused, match=message):
        add(app, url)


@pytest.mark.parametrize(
    "address, public",
    [
        ("8.8.8.8", True),
        ("2606:4700:4700::1111", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),  # a cloud's metadata service
        ("100.64.0.1", False),
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("240.0.0.1", False),
        ("255.255.255.255", False),
        ("::1", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("ff02::1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:10.0.0.1", False),
    ],
)
def test_only_public_addresses_count_as_public(address, public):
    assert is_public_address(address) is public


def test_credentials_in_the_address_go_as_basic_auth_never_as_host(app, hours, feed_server):
    url = feed_server.serve("/shared.ics", calendar_text(meeting(day_ahead(3), 10, 11)))
    add(app, url.replace("http://", "http://owner:s%40cret@"))
    [request] = feed_server.requests("/shared.ics")
    assert request["Authorization"] == "Basic b3duZXI6c0BjcmV0"  # owner:s@cret
    assert "@" not in request["Host"]


def test_racing_workers_claim_a_feed_once(app):
    with app.app_context():
        feed = CalendarFeed(name="Raced", url="https://calendar.example/feed.ics")
        db.session.add(feed)
        db.session.commit()
        feed_id, engine = feed.id, db.engine
        now = utc_now()
        barrier = threading.Barrier(6)

        def claim(_):
            with Session(engine) as session:
                barrier.wait()
                return claim_feed(session, feed_id, now, SYNC_PERIOD)

        with ThreadPoolExecutor(6) as pool:
            won = list(pool.map(claim, range(6)))
    assert won.count(True) == 1
