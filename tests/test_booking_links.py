"""Private booking links, attacked: someone who knows a visitor's address books with it,
replays their form, reads a copy of the database, or asks for their links.

Each test is the request an attacker would send and what they must not get.
"""

import re
import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import inspect, select, text

from domain.booking.calls import BookingLimitReached, BookingLimits, BookingRequest, book_call
from domain.booking.links import LINK_LIFETIME, booking_for_token, mint_link
from domain.booking.tokens import utc_now
from extensions import db
from models import Booking, Lead
from tests.conftest import ARTICLE_SLUG, VALID_ANSWERS, Visitor

VICTIM = VALID_ANSWERS["email"]
TOKEN = re.compile(r"/booking/([A-Za-z0-9_.-]+)")


@pytest.fixture
def mailing(settings, mail_settings):
    settings.update(mail_settings)
    return settings


def token_of(location: str) -> str:
    return TOKEN.search(location).group(1)


def bookings(app) -> list[Booking]:
    with app.app_context():
        found = db.session.scalars(select(Booking).order_by(Booking.id)).all()
        for booking in found:
            db.session.expunge(booking)
        return found


def shown(moment: datetime) -> str:
    """A call's start as the visitor's pages write it."""
    return moment.astimezone(ZoneInfo("Europe/London")).strftime("%A %-d %B %Y, %H:%M")


@pytest.fixture
def victim_booked(app, client, open_hours):
    """The victim books a call with their own address; returns their confirmation URL."""
    response = Visitor(client).book()
    assert response.status_code == 303
    return response.headers["Location"]


@pytest.fixture
def attacker(app, open_hours):
    """A stranger's browser: another cookie jar, another client address."""
    stranger = app.test_client()
    stranger.environ_base["REMOTE_ADDR"] = "203.0.113.66"
    return Visitor(stranger)


def attack_with_victims_address(attacker) -> str:
    slot = attacker.free_slots()[4]
    response = attacker.book(
        slot=slot, name="Mallory", company="Evil Corp", role="Intern", company_size="1-10"
    )
    assert response.status_code == 303
    return response.headers["Location"]


def test_booking_with_someone_elses_address_opens_only_the_call_just_booked(
    app, victim_booked, attacker
):
    location = attack_with_victims_address(attacker)
    victims_call, attackers_call = bookings(app)
    confirmation = attacker.client.get(location).get_data(as_text=True)
    manage = re.search(r'href="(/booking/[^"/]+)">manage your booking', confirmation).group(1)
    page = attacker.client.get(manage).get_data(as_text=True)
    assert shown(attackers_call.starts_at) in page
    assert shown(victims_call.starts_at) not in page
    assert "Ada Lovelace" not in page

    # The attacker's link cancels what the attacker booked, and nothing of the victim's.
    cancel = re.search(r'href="([^"]+/cancel)"', page).group(1)
    assert attacker.client.post(cancel).status_code == 303
    statuses = {b.id: b.status for b in bookings(app)}
    assert statuses == {victims_call.id: "active", attackers_call.id: "cancelled"}


def test_a_booking_never_rewrites_the_details_of_the_addresss_lead(
    app, victim_booked, attacker, owner
):
    attack_with_victims_address(attacker)
    with app.app_context():
        lead = db.session.scalar(select(Lead))
        assert (lead.name, lead.company, lead.role, lead.company_size) == (
            "Ada Lovelace",
            "Analytical Engines Ltd",
            "Chief Technology Officer",
            "51-200",
        )
        assert [b.name for b in lead.bookings] == ["Ada Lovelace", "Mallory"]
        lead_id = lead.id
    page = owner.get(f"/owner/leads/{lead_id}").get_data(as_text=True)
    assert "This booking gave other details than the lead’s." in page
    assert 'Mallory <span class="hint">(lead: Ada Lovelace)</span>' in page


def test_the_owner_is_told_when_a_booking_gave_other_details(
    mailing, app, victim_booked, attacker, runner, smtp_server
):
    attack_with_victims_address(attacker)
    runner.invoke(args=["outbox", "send"])
    notifications = smtp_server.wait_for(4) and smtp_server.to("owner@example.test")
    assert "details were kept" in notifications[-1].text
    assert "Name: Mallory (lead: Ada Lovelace)" in notifications[-1].text


def every_stored_text(app) -> str:
    """Every value of every row of every table, as one string: a copy of the database."""
    with app.app_context():
        tables = inspect(db.engine).get_table_names()
        rows = [
            repr(tuple(row))
            for table in tables
            for row in db.session.execute(text(f'SELECT * FROM "{table}"'))
        ]
    return "\n".join(rows)


def test_links_are_opaque_and_a_copy_of_the_database_holds_none(
    mailing, app, client, runner, smtp_server, open_hours
):
    location = Visitor(client).book().headers["Location"]
    runner.invoke(args=["outbox", "send"])
    emailed = smtp_server.wait_for(2) and smtp_server.to(VICTIM)[0]
    tokens = {token_of(location), *TOKEN.findall(emailed.text)}
    assert len(tokens) == 2  # the page's link, and the email's own
    stored = every_stored_text(app)
    for token in tokens:
        assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token)  # random bytes: no id, no payload
        assert token not in stored
    assert "[[manage-link:" in stored  # the outbox keeps a placeholder, not the link
    for token in tokens:
        assert client.get(f"/booking/{token}").status_code == 200


def test_a_link_works_until_thirty_days_after_its_call(app, open_hours):
    request = a_request(on_the_hour(datetime.now(UTC) + timedelta(days=3)))
    with app.app_context():
        booked = book_call(db.session, request, now=utc_now(), plan_emails=no_emails)
        call_end = booked.booking.ends_at
        assert booking_for_token(db.session, booked.token, call_end + LINK_LIFETIME) is not None
        later = call_end + LINK_LIFETIME + timedelta(seconds=1)
        assert booking_for_token(db.session, booked.token, later) is None


def test_the_owner_revokes_every_link_and_the_lead_gets_new_ones(
    mailing, app, victim_booked, owner, runner, smtp_server
):
    with app.app_context():
        lead_id = db.session.scalar(select(Lead.id))
    response = owner.post(f"/owner/leads/{lead_id}/links", follow_redirects=True)
    assert "Old links revoked. New links are on their way" in response.get_data(as_text=True)
    assert owner.get(victim_booked.removesuffix("/confirmed")).status_code == 404
    runner.invoke(args=["outbox", "send"])
    links_email = next(m for m in smtp_server.wait_for(3) if "links" in m.subject)
    assert links_email.rcpt_tos == (VICTIM,)
    new_token = TOKEN.search(links_email.text).group(1)
    assert "Your strategy call, Ada Lovelace" in owner.get(f"/booking/{new_token}").get_data(
        as_text=True
    )


def ask_for_links(client, email: str):
    return client.post("/booking/links", data={"email": email})


def test_send_me_my_links_answers_the_same_whether_or_not_the_address_booked(
    mailing, app, victim_booked, runner, smtp_server
):
    stranger = app.test_client()
    known = ask_for_links(stranger, VICTIM)
    unknown = ask_for_links(stranger, "nobody@example.org")
    assert known.status_code == unknown.status_code == 200
    assert known.get_data(as_text=True).replace(VICTIM, "X") == unknown.get_data(
        as_text=True
    ).replace("nobody@example.org", "X")
    assert not re.search(r"/booking/[A-Za-z0-9_-]{43}", known.get_data(as_text=True))
    runner.invoke(args=["outbox", "send"])
    received = smtp_server.wait_for(3)
    assert [m.rcpt_tos for m in received if "links" in m.subject] == [(VICTIM,)]
    assert smtp_server.to("nobody@example.org") == []


def test_send_me_my_links_is_rate_limited_per_address(app, victim_booked):
    answers = [ask_for_links(app.test_client(), VICTIM.upper()).status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]


def test_a_replayed_form_shows_its_confirmation_only_to_the_browser_it_was_given_to(
    app, client, open_hours, attacker
):
    visitor = Visitor(client)
    form = {**visitor.form_for(visitor.free_slots()[0]), **VALID_ANSWERS}
    first = client.post("/book", query_string={"article": ARTICLE_SLUG}, data=form)
    assert first.status_code == 303

    replayed = attacker.client.post("/book", query_string={"article": ARTICLE_SLUG}, data=form)
    assert replayed.status_code == 200
    assert "This form was already sent" in replayed.get_data(as_text=True)
    assert "Location" not in replayed.headers
    assert not re.search(r"/booking/[A-Za-z0-9_-]{43}", replayed.get_data(as_text=True))

    again = client.post("/book", query_string={"article": ARTICLE_SLUG}, data=form)
    assert again.status_code == 303
    assert client.get(again.headers["Location"]).status_code == 200
    assert len(bookings(app)) == 1


@pytest.fixture
def capped(settings):
    settings.update(BOOKING_MAX_UPCOMING_PER_EMAIL=2, BOOKING_MAX_UPCOMING_PER_CLIENT=3)
    return settings


def test_one_address_holds_at_most_two_upcoming_calls(capped, app, client, open_hours):
    visitor = Visitor(client)
    slots = visitor.free_slots()
    assert visitor.book(slot=slots[0]).status_code == 303
    assert visitor.book(slot=slots[2]).status_code == 303
    refused = visitor.book(slot=slots[4], company="Kept Company Ltd")
    page = refused.get_data(as_text=True)
    assert refused.status_code == 429
    assert "already has 2 upcoming calls booked" in page
    assert 'value="Kept Company Ltd"' in page  # the other answers are kept
    assert len(bookings(app)) == 2


def test_one_client_holds_at_most_three_upcoming_calls(capped, app, client, open_hours):
    visitor = Visitor(client)
    slots = visitor.free_slots()
    for n in range(3):
        assert visitor.book(slot=slots[n * 2], email=f"person{n}@example.org").status_code == 303
    refused = visitor.book(slot=slots[6], email="person3@example.org")
    assert refused.status_code == 429
    assert "booked from your connection" in refused.get_data(as_text=True)
    elsewhere = app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    assert Visitor(elsewhere).book(slot=slots[6], email="person3@example.org").status_code == 303
    assert len(bookings(app)) == 4


@pytest.fixture
def capped_behind_nginx(capped):
    capped["PROXY_COUNT"] = 1  # as deploy/intelligence-library.env.example
    return capped


def test_behind_the_proxy_one_client_still_holds_at_most_three_upcoming_calls(
    capped_behind_nginx, app, open_hours
):
    """Behind nginx (PROXY_COUNT=1) every request comes from loopback: the client is the
    address nginx forwards, and one it adds itself in front does not make it another."""
    client = app.test_client()
    client.environ_base.update(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9")
    visitor = Visitor(client)
    slots = visitor.free_slots()
    for n in range(3):
        assert visitor.book(slot=slots[n * 2], email=f"person{n}@example.org").status_code == 303
    client.environ_base["HTTP_X_FORWARDED_FOR"] = "198.51.100.50, 203.0.113.9"  # spoofed
    refused = visitor.book(slot=slots[6], email="person3@example.org")
    assert refused.status_code == 429
    assert "booked from your connection" in refused.get_data(as_text=True)
    elsewhere = app.test_client()
    elsewhere.environ_base.update(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert Visitor(elsewhere).book(slot=slots[6], email="person3@example.org").status_code == 303
    assert len(bookings(app)) == 4


def on_the_hour(moment: datetime) -> datetime:
    return moment.replace(hour=10, minute=0, second=0, microsecond=0)


def no_emails(*_args):
    return []


def a_request(start: datetime, key: str = "a" * 32, client_key: str | None = None):
    return BookingRequest(
        name="Ada Lovelace",
        email=VICTIM,
        company="Analytical Engines Ltd",
        role="CTO",
        company_size="51-200",
        signals=(),
        message="",
        consent_version="v1",
        start=start,
        visitor_timezone="Europe/London",
        submission_key=key,
        client_key=client_key,
    )


def test_racing_submissions_from_one_address_still_get_only_two_calls(app, open_hours):
    """Six submissions at once, each in its own session and thread, for six free times."""
    with app.app_context():
        first = (utc_now() + timedelta(days=3)).replace(hour=9, minute=0, second=0, microsecond=0)
        starts = [first + timedelta(hours=n) for n in range(6)]
    results: list[str] = []
    barrier = threading.Barrier(len(starts))

    def submit(index: int, start: datetime) -> None:
        with app.app_context():
            barrier.wait()
            try:
                book_call(
                    db.session,
                    a_request(start, key=f"{index:032x}"),
                    now=utc_now(),
                    plan_emails=no_emails,
                    limits=BookingLimits(per_email=2, per_client=100),
                )
                results.append("booked")
            except BookingLimitReached:
                results.append("capped")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=submit, args=pair) for pair in enumerate(starts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results) == ["booked", "booked", "capped", "capped", "capped", "capped"]
    assert len(bookings(app)) == 2


def test_a_link_made_for_one_booking_never_opens_another(app, open_hours):
    with app.app_context():
        start = on_the_hour(datetime.now(UTC) + timedelta(days=3))
        mine = book_call(db.session, a_request(start), now=utc_now(), plan_emails=no_emails)
        other = book_call(
            db.session,
            a_request(start + timedelta(hours=2), key="b" * 32),
            now=utc_now(),
            plan_emails=no_emails,
        )
        extra = mint_link(db.session, other.booking, utc_now())
        db.session.commit()
        assert booking_for_token(db.session, mine.token, utc_now()).id == mine.booking.id
        assert booking_for_token(db.session, extra, utc_now()).id == other.booking.id


def test_the_owner_may_adopt_the_details_a_later_booking_gave(app, victim_booked, attacker, owner):
    attack_with_victims_address(attacker)
    with app.app_context():
        lead = db.session.scalar(select(Lead))
        lead_id, later = lead.id, lead.bookings[1].id
    response = owner.post(f"/owner/leads/{lead_id}/bookings/{later}/adopt-details")
    assert response.status_code == 303
    with app.app_context():
        lead = db.session.get(Lead, lead_id)
        assert (lead.name, lead.company, lead.role) == ("Mallory", "Evil Corp", "Intern")
    page = owner.get(f"/owner/leads/{lead_id}").get_data(as_text=True)
    assert "(lead: Mallory)" in page  # now the first booking is the one that differs


def test_asking_for_links_leaves_no_address_in_the_log(app, victim_booked, caplog):
    with caplog.at_level("DEBUG"):
        answers = [ask_for_links(app.test_client(), VICTIM).status_code for _ in range(4)]
    assert answers[-1] == 429
    assert VICTIM not in caplog.text
