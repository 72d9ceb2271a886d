"""Booking domain without HTTP: scoring, tokens, attribution, availability, the database's rules."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from domain.booking.availability import AvailabilityValues, load_rules, save_values, validate
from domain.booking.calls import (
    BookingClosed,
    BookingRequest,
    Signal,
    SlotUnavailable,
    book_call,
    cancel_call,
    reschedule_call,
)
from domain.booking.tokens import client_key, render_stamp, seconds_since_render
from domain.leads.attribution import attribution_record, track_visit
from domain.leads.scoring import fit_for, role_points
from domain.platform.database import serialised_write
from extensions import db
from models import Booking, Lead
from tests.conftest import ON_POSTGRES, call_row

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday


# --- scoring -------------------------------------------------------------------------------


def test_senior_role_at_a_large_company_with_architect_signals_scores_high():
    fit = fit_for(
        company_size="1001-5000",
        role="VP Engineering",
        email="x@corp.example",
        message="We need one operating model for AI across five departments." * 2,
        chosen_engagements=["architect"] * 3,
    )
    assert fit.score >= 90
    assert fit.engagement == "architect"


def test_small_company_with_engineer_signals_suggests_an_engineer():
    fit = fit_for(
        company_size="1-10",
        role="Developer",
        email="dev@startup.example",
        message="",
        chosen_engagements=["engineer", "engineer", "architect"],
    )
    assert fit.engagement == "engineer"
    assert fit.score < 40


def test_free_webmail_scores_lower_than_a_work_address():
    common = dict(company_size="51-200", role="Head of Data", message="", chosen_engagements=[])
    assert (
        fit_for(email="a@gmail.com", **common).score
        == fit_for(email="a@company.example", **common).score - 10
    )


def test_score_stays_between_zero_and_one_hundred():
    low = fit_for(company_size="?", role="", email="a@gmail.com", message="", chosen_engagements=[])
    high = fit_for(
        company_size="5000+",
        role="Chief Executive Officer",
        email="a@b.example",
        message="x" * 500,
        chosen_engagements=["architect"] * 6 + ["engineer"] * 6,
    )
    assert low.score == 0 and high.score == 100


@pytest.mark.parametrize(
    ("role", "points"),
    [
        ("CTO", 25),
        ("Head of Operations", 25),
        ("Co-Founder", 25),
        ("Engineering Manager", 15),
        ("Headhunter", 5),
        ("Analyst", 5),
    ],
)
def test_role_seniority_reads_whole_words(role, points):
    assert role_points(role) == points


# --- tokens --------------------------------------------------------------------------------


def test_client_key_names_a_client_without_its_address():
    key = client_key("secret", "203.0.113.9")
    assert key == client_key("secret", "203.0.113.9") != client_key("secret", "203.0.113.10")
    assert "203.0.113" not in key and key != client_key("other-secret", "203.0.113.9")


def test_render_stamp_measures_time_on_the_form_and_refuses_forgery():
    stamp = render_stamp("secret", NOW)
    assert seconds_since_render("secret", stamp, NOW + timedelta(seconds=12)) == 12
    assert seconds_since_render("other", stamp, NOW) is None
    assert seconds_since_render("secret", "", NOW) is None


# --- attribution ---------------------------------------------------------------------------


def visit(state, now, path="/", args=None, referrer=None, slug=None):
    return track_visit(
        state,
        args=args or {},
        referrer=referrer,
        path=path,
        own_host="site.example",
        now=now,
        article_slug=slug,
    )


def test_first_touch_is_kept_and_last_touch_follows_new_visits():
    state = visit(
        None,
        NOW,
        "/library/a?utm_source=newsletter",
        {"utm_source": "newsletter"},
        "https://mail.example/",
        "a",
    )
    state = visit(state, NOW + timedelta(minutes=5), "/library/b", slug="b")
    assert state["articles"] == ["a", "b"]
    later = visit(state, NOW + timedelta(hours=3), "/", referrer="https://search.example/?q=ai")
    assert later["first"]["utm_source"] == "newsletter"
    assert later["last"]["referrer"] == "https://search.example/?q=ai"
    assert later["articles"] == []


def test_a_campaign_link_starts_a_new_touch_within_a_visit():
    state = visit(None, NOW, "/")
    state = visit(state, NOW + timedelta(minutes=1), "/?utm_campaign=x", {"utm_campaign": "x"})
    assert state["last"]["utm_campaign"] == "x"
    assert "utm_campaign" not in state["first"]


def test_moves_within_the_site_are_not_a_referrer():
    state = visit(None, NOW, "/library/a", referrer="https://site.example/")
    assert state["last"]["referrer"] == ""


def test_attribution_record_adds_the_source_article():
    state = visit(None, NOW, "/library/a", slug="a")
    record = attribution_record(state, "b")
    assert record["articles_read"] == ["a", "b"]
    assert record["source_article"] == "b"


# --- availability --------------------------------------------------------------------------


def test_overlapping_or_reversed_ranges_are_refused():
    values = AvailabilityValues(
        weekly_hours={"0": [["09:00", "12:00"], ["11:00", "13:00"]], "1": [["10:00", "09:00"]]}
    )
    errors = validate(values)
    assert errors["hours_0"] == "Ranges on the same day must not overlap."
    assert "must end after it starts" in errors["hours_1"]


def test_unknown_zone_and_bad_numbers_are_refused():
    errors = validate(
        AvailabilityValues(timezone="Nowhere/City", call_minutes=0, dates_off=["25 Dec"])
    )
    assert set(errors) >= {"timezone", "call_minutes", "dates_off"}


def test_saved_rules_become_slot_rules(app):
    with app.app_context():
        save_values(
            db.session,
            AvailabilityValues(
                timezone="America/New_York", buffer_minutes=10, dates_off=["2026-12-25"]
            ),
        )
        db.session.commit()
        rules = load_rules(db.session)
    assert rules.timezone == "America/New_York"
    assert rules.buffer_minutes == 10
    assert datetime(2026, 12, 25).date() in rules.dates_off


def test_availability_command_sets_and_shows_rules(runner):
    result = runner.invoke(
        args=[
            "availability",
            "set",
            "--timezone",
            "Europe/Berlin",
            "--hours",
            "mon=10:00-12:00,14:00-16:00",
            "--hours",
            "sat=",
            "--buffer-minutes",
            "5",
            "--day-off",
            "2026-12-24",
        ]
    )
    assert result.exit_code == 0, result.output
    shown = runner.invoke(args=["availability", "show"]).output
    assert "Europe/Berlin" in shown
    assert "Monday           10:00-12:00, 14:00-16:00" in shown
    assert "2026-12-24" in shown


def test_availability_command_refuses_overlaps(runner):
    result = runner.invoke(args=["availability", "set", "--hours", "tue=09:00-12:00,11:00-13:00"])
    assert result.exit_code == 1
    assert "must not overlap" in result.output


# --- booking in the database ---------------------------------------------------------------


def request_for(start, email="ada@engines.example", key="a" * 32) -> BookingRequest:
    return BookingRequest(
        name="Ada",
        email=email,
        company="Engines",
        role="CTO",
        company_size="51-200",
        signals=(Signal("architect-01", "Scaling AI", "architect"),),
        message="",
        consent_version="v1",
        start=start,
        visitor_timezone="Europe/London",
        submission_key=key,
    )


def no_emails(*_args):
    return []


@pytest.fixture
def weekday_hours(app):
    with app.app_context():
        save_values(
            db.session,
            AvailabilityValues(
                weekly_hours={str(d): [["09:00", "17:00"]] for d in range(7)},
                buffer_minutes=15,
                daily_limit=None,
                min_notice_minutes=60,
            ),
        )
        db.session.commit()


def test_failed_reschedule_leaves_the_booking_where_it_was(app, weekday_hours):
    with app.app_context():
        mine = book_call(
            db.session, request_for(NOW.replace(hour=10, minute=30)), now=NOW, plan_emails=no_emails
        ).booking
        book_call(
            db.session,
            request_for(NOW.replace(hour=14, minute=15), "b@x.example", "b" * 32),
            now=NOW,
            plan_emails=no_emails,
        )
        with pytest.raises(SlotUnavailable):
            reschedule_call(
                db.session,
                booking_id=mine.id,
                new_start=NOW.replace(hour=14, minute=15),
                visitor_timezone="UTC",
                now=NOW,
                plan_emails=no_emails,
            )
        db.session.expire_all()
        assert db.session.get(Booking, mine.id).starts_at == NOW.replace(hour=10, minute=30)


def test_a_call_cancelled_elsewhere_after_it_was_read_cannot_then_be_moved(app, weekday_hours):
    """What a request read before its write is read again inside the write: the manage
    page loaded the call, another request cancelled it meanwhile, the move is refused."""
    with app.app_context():
        booking_id = book_call(
            db.session, request_for(NOW.replace(hour=10, minute=30)), now=NOW, plan_emails=no_emails
        ).booking_id
        db.session.remove()
        seen = db.session.get(Booking, booking_id)  # read, left open, and held
        assert seen.status == "active"
        with Session(db.engine) as elsewhere:
            cancel_call(elsewhere, booking_id=booking_id, now=NOW, plan_emails=no_emails)
        with pytest.raises(BookingClosed):
            reschedule_call(
                db.session,
                booking_id=booking_id,
                new_start=NOW.replace(hour=14, minute=15),
                visitor_timezone="UTC",
                now=NOW,
                plan_emails=no_emails,
            )


def test_writes_flushed_before_a_serialised_write_are_not_committed_by_it(app):
    """The write starts clean: whatever the session flushed before it is rolled back."""
    with app.app_context():
        db.session.add(a_lead())
        db.session.flush()
        with serialised_write(db.session):
            pass
        db.session.remove()
        assert db.session.scalars(select(Lead)).all() == []


def insert_active_booking(start, minutes, lead, key):
    db.session.add(call_row(start, minutes, lead=lead, submission_key=key))
    db.session.commit()


def a_lead() -> Lead:
    return Lead(
        email="l@x.example",
        email_normalised="l@x.example",
        name="L",
        company="C",
        role="R",
        company_size="1-10",
        fit_score=0,
        suggested_engagement="architect",
        first_touch={},
        last_touch={},
        articles_read=[],
        consent_version="v1",
        consent_given_at=NOW,
    )


def test_database_refuses_two_active_calls_at_the_same_start(app):
    with app.app_context():
        lead = a_lead()
        insert_active_booking(NOW, 30, lead, "k1")
        with pytest.raises(IntegrityError):
            insert_active_booking(NOW, 30, lead, "k2")


def test_database_refuses_overlapping_active_calls_on_postgres_and_not_on_cancelled_ones(app):
    """PostgreSQL's exclusion constraint; on SQLite the write lock does this job (see the race
    test), so there the overlapping insert that bypasses the app must still be the only one."""
    with app.app_context():
        lead = a_lead()
        insert_active_booking(NOW, 60, lead, "k1")
        overlapping = NOW + timedelta(minutes=30)
        if ON_POSTGRES:
            with pytest.raises(IntegrityError):
                insert_active_booking(overlapping, 30, lead, "k2")
            db.session.rollback()
            first = db.session.get(Booking, 1)
            first.status = "cancelled"
            db.session.commit()
        insert_active_booking(overlapping, 30, lead, "k3")
        assert len(db.session.scalars(select(Booking)).all()) >= 2


def test_reading_on_within_a_minute_leaves_the_visit_unchanged():
    state = visit(None, NOW, "/library/a", slug="a")
    assert visit(state, NOW + timedelta(seconds=30), "/library/a", slug="a") == state
    assert visit(state, NOW + timedelta(minutes=2), "/library/a", slug="a") != state


# --- what a booking writes -----------------------------------------------------------------


def lead_row(email="ada@engines.example") -> Lead:
    db.session.expire_all()
    return db.session.scalar(select(Lead).where(Lead.email_normalised == email))


def timeline(lead: Lead) -> list[tuple[str, str | None, str | None]]:
    return [(e.kind, e.from_status, e.to_status) for e in lead.events]


def test_a_first_booking_writes_its_lead_booked_with_the_call_its_next(app, weekday_hours):
    start = NOW.replace(hour=10, minute=30)
    with app.app_context():
        booked = book_call(db.session, request_for(start), now=NOW, plan_emails=None)
        lead = lead_row()
        assert (lead.status, lead.next_call_at, lead.updated_at) == ("call_booked", start, NOW)
        assert timeline(lead) == [("status", "new", "call_booked")]
        assert lead.events[0].body == "They booked a call."
        assert booked.booking.lead_id == lead.id and booked.lead.id == lead.id
        assert booked.booking.ends_at == start + timedelta(minutes=30)
        assert len(booked.booking.links) == 1


def test_a_lead_further_along_keeps_its_status_and_gains_the_earlier_call(app, weekday_hours):
    later, earlier = NOW.replace(hour=15), NOW.replace(hour=11, minute=15)
    with app.app_context():
        book_call(db.session, request_for(later), now=NOW, plan_emails=None)
        lead = lead_row()
        lead.status = "qualified"
        db.session.commit()
        book_call(db.session, request_for(earlier, key="b" * 32), now=NOW, plan_emails=None)
        lead = lead_row()
        assert (lead.status, lead.next_call_at) == ("qualified", earlier)
        assert timeline(lead) == [("status", "new", "call_booked")]  # no second entry


def test_a_contacted_lead_whose_next_call_passed_is_booked_with_the_new_call(app, weekday_hours):
    first, past, start = (
        NOW.replace(hour=15, minute=45),
        NOW - timedelta(days=2),
        NOW.replace(hour=12),
    )
    with app.app_context():
        book_call(db.session, request_for(first), now=NOW, plan_emails=None)
        lead = lead_row()
        lead.status, lead.next_call_at = "contacted", past  # as if read before a cancel
        db.session.commit()
        book_call(db.session, request_for(start, key="b" * 32), now=NOW, plan_emails=None)
        lead = lead_row()
        # The stored next call had passed: the earliest active call ahead is the new one.
        assert (lead.status, lead.next_call_at, lead.updated_at) == ("call_booked", start, NOW)
        assert timeline(lead) == [
            ("status", "new", "call_booked"),
            ("status", "contacted", "call_booked"),
        ]
