"""The visitor's private manage link: see, reschedule and cancel; scanners change nothing."""

import re

import pytest
from icalendar import Calendar
from sqlalchemy import select

from extensions import db
from models import Booking, OutboxMessage


def booking_id_of(app, manage_url: str) -> int:
    from domain.booking.links import booking_for_token
    from domain.booking.tokens import utc_now

    with app.app_context():
        return booking_for_token(db.session, manage_url.rsplit("/", 1)[1], utc_now()).id


@pytest.fixture
def booked(app, visitor):
    """(manage URL, booking id) of a fresh booking."""
    location = visitor.book().headers["Location"]
    token = re.match(r"^/booking/([A-Za-z0-9_-]{43})/confirmed$", location)
    manage_url = f"/booking/{token.group(1)}"
    return manage_url, booking_id_of(app, manage_url)


def booking(app, booking_id) -> Booking:
    with app.app_context():
        found = db.session.get(Booking, booking_id)
        db.session.expunge(found)
        return found


def next_call_of(app, booking_id):
    with app.app_context():
        return db.session.get(Booking, booking_id).lead.next_call_at


def kinds_for(app, booking_id) -> list[tuple[str, str]]:
    with app.app_context():
        return [
            (m.kind, m.status)
            for m in db.session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.booking_id == booking_id)
                .order_by(OutboxMessage.id)
            )
        ]


def test_manage_page_shows_the_call_and_its_choices(client, booked):
    manage_url, booking_id = booked
    response = client.get(manage_url)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Your strategy call, Ada Lovelace" in page
    assert f"{manage_url}/reschedule" in page
    # Cancel is a link to a page that asks first, not a one-click button.
    assert f'href="{manage_url}/cancel"' in page
    assert f'action="{manage_url}/cancel"' not in page
    assert response.headers["X-Robots-Tag"] == "noindex, nofollow"
    assert "no-store" in response.headers["Cache-Control"]


def test_tampered_or_unknown_token_gets_404(client, booked):
    manage_url, _ = booked
    assert client.get(manage_url[:-3] + "abc").status_code == 404
    assert client.get("/booking/not-a-token").status_code == 404


def test_following_the_cancel_link_asks_first_and_changes_nothing(app, client, booked):
    manage_url, booking_id = booked
    response = client.get(f"{manage_url}/cancel")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Cancel your call?" in page
    assert booking(app, booking_id).starts_at.strftime("%-d %B") in page  # what is cancelled
    assert f'<form method="post" action="{manage_url}/cancel"' in page
    assert "<textarea" in page and 'name="reason"' in page
    assert ">Cancel the call</button>" in page
    assert f'<a href="{manage_url}">Keep it</a>' in page
    assert response.headers["X-Robots-Tag"] == "noindex, nofollow"
    assert "no-store" in response.headers["Cache-Control"]
    assert booking(app, booking_id).status == "active"


def owner_cancellation_body(app, booking_id) -> str:
    with app.app_context():
        return db.session.scalar(
            select(OutboxMessage.body_text).where(
                OutboxMessage.booking_id == booking_id,
                OutboxMessage.kind == "owner_cancellation",
            )
        )


def test_cancel_with_a_reason_keeps_it_and_tells_the_owner(app, client, booked):
    manage_url, booking_id = booked
    reason = "Our board moved the budget review.\r\nCan we talk in January?"
    response = client.post(f"{manage_url}/cancel", data={"reason": f"  {reason}  "})
    assert response.status_code == 303
    cancelled = booking(app, booking_id)
    assert cancelled.status == "cancelled"
    assert cancelled.cancel_reason == "Our board moved the budget review.\nCan we talk in January?"
    body = owner_cancellation_body(app, booking_id)
    assert "Their reason: Our board moved the budget review.\nCan we talk in January?" in body


def test_cancel_without_a_reason_tells_the_owner_none_was_given(app, client, booked):
    manage_url, booking_id = booked
    assert client.post(f"{manage_url}/cancel", data={"reason": "   "}).status_code == 303
    assert booking(app, booking_id).cancel_reason is None
    assert "They gave no reason." in owner_cancellation_body(app, booking_id)


def test_a_reason_over_1000_characters_is_refused_beside_the_field_and_kept(app, client, booked):
    manage_url, booking_id = booked
    too_long = "why " * 250 + "x"
    response = client.post(f"{manage_url}/cancel", data={"reason": too_long})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="reason-error">Please keep the reason to 1,000 characters or fewer.' in page
    assert too_long.strip() in page
    assert booking(app, booking_id).status == "active"
    # Exactly 1,000, line breaks counted as one each as the browser counts them, is fine.
    fits = ("a" * 99 + "\r\n") * 10
    assert client.post(f"{manage_url}/cancel", data={"reason": fits}).status_code == 303


def test_a_reason_with_a_control_character_is_refused_and_cancels_nothing(app, client, booked):
    manage_url, booking_id = booked
    response = client.post(f"{manage_url}/cancel", data={"reason": "ok\x00then"})
    assert response.status_code == 400
    assert 'id="reason-error"' in response.get_data(as_text=True)
    assert booking(app, booking_id).status == "active"


def test_the_cancel_page_of_a_cancelled_call_goes_back_to_the_booking(client, booked):
    manage_url, _ = booked
    client.post(f"{manage_url}/cancel")
    response = client.get(f"{manage_url}/cancel")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(manage_url)


def test_the_reason_shows_in_the_leads_timeline_and_export(app, client, booked, owner):
    manage_url, booking_id = booked
    client.post(f"{manage_url}/cancel", data={"reason": "Budget <frozen> until Q2"})
    with app.app_context():
        lead_id = db.session.get(Booking, booking_id).lead_id
    page = owner.get(f"/owner/leads/{lead_id}").get_data(as_text=True)
    cancelled = re.search(r'<li class="timeline-cancelled">(.*?)</li>', page, re.S).group(1)
    assert "Their reason: Budget &lt;frozen&gt; until Q2" in cancelled
    exported = owner.get(f"/owner/leads/{lead_id}.json").get_json()
    assert exported["bookings"][0]["cancel_reason"] == "Budget <frozen> until Q2"


def test_cancel_frees_the_slot_and_emails_both_sides(app, client, booked, visitor):
    manage_url, booking_id = booked
    starts = booking(app, booking_id).starts_at
    response = client.post(f"{manage_url}/cancel")
    assert response.status_code == 303
    assert "Your call is cancelled" in client.get(manage_url).get_data(as_text=True)
    assert booking(app, booking_id).status == "cancelled"
    assert next_call_of(app, booking_id) is None
    kinds = kinds_for(app, booking_id)
    assert ("visitor_reminder", "cancelled") in kinds
    assert ("visitor_cancellation", "pending") in kinds
    assert ("owner_cancellation", "pending") in kinds
    assert starts.strftime("%Y-%m-%dT%H:%M:%SZ") in visitor.free_slots()


def test_cancelled_call_cannot_be_rescheduled_or_cancelled_again(app, client, booked, visitor):
    manage_url, booking_id = booked
    client.post(f"{manage_url}/cancel")
    new_slot = visitor.free_slots()[3]
    response = client.post(
        f"{manage_url}/reschedule",
        data={"slot": new_slot, "timezone": "Europe/London"},
    )
    assert response.status_code == 303
    assert booking(app, booking_id).status == "cancelled"
    again = client.post(f"{manage_url}/cancel", follow_redirects=True)
    assert "already cancelled" in again.get_data(as_text=True)
    assert len([k for k, _ in kinds_for(app, booking_id) if k == "visitor_cancellation"]) == 1


def test_reschedule_moves_the_call_and_the_link_keeps_working(app, client, booked, visitor):
    manage_url, booking_id = booked
    old = booking(app, booking_id)
    new_slot = visitor.free_slots()[5]
    page = client.get(f"{manage_url}/reschedule", query_string={"slot": new_slot}).get_data(
        as_text=True
    )
    assert "Confirm the new time" in page
    response = client.post(
        f"{manage_url}/reschedule",
        data={"slot": new_slot, "timezone": "Europe/London"},
    )
    assert response.status_code == 303
    moved = booking(app, booking_id)
    assert moved.starts_at.strftime("%Y-%m-%dT%H:%M:%SZ") == new_slot
    assert moved.sequence == old.sequence + 1
    assert next_call_of(app, booking_id) == moved.starts_at
    free = visitor.free_slots()
    assert old.starts_at.strftime("%Y-%m-%dT%H:%M:%SZ") in free
    assert new_slot not in free
    assert client.get(manage_url).status_code == 200
    kinds = kinds_for(app, booking_id)
    assert kinds.count(("visitor_reminder", "cancelled")) == 1
    assert kinds.count(("visitor_reminder", "pending")) == 1
    assert ("visitor_reschedule", "pending") in kinds
    assert ("owner_reschedule", "pending") in kinds


def test_reschedule_onto_a_taken_time_changes_nothing(app, client, booked, visitor):
    manage_url, booking_id = booked
    before = booking(app, booking_id)
    taken = visitor.free_slots()[2]
    assert visitor.book(slot=taken, email="someone@else.example").status_code == 303
    response = client.post(
        f"{manage_url}/reschedule",
        data={"slot": taken, "timezone": "Europe/London"},
        follow_redirects=True,
    )
    assert "That time was just taken, please pick another." in response.get_data(as_text=True)
    after = booking(app, booking_id)
    assert (after.starts_at, after.sequence) == (before.starts_at, before.sequence)


def test_the_invite_download_is_the_links_own_call(client, booked):
    manage_url, booking_id = booked
    response = client.get(f"{manage_url}/invite.ics")
    assert response.status_code == 200
    assert f"UID:booking-{booking_id}@" in response.get_data(as_text=True)


def test_a_cancelled_calls_invite_and_email_offer_a_new_call_not_the_manage_page(
    app, client, booked
):
    manage_url, booking_id = booked
    client.post(f"{manage_url}/cancel")
    downloaded = Calendar.from_ical(client.get(f"{manage_url}/invite.ics").get_data(as_text=True))
    with app.app_context():
        mail = db.session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.booking_id == booking_id,
                OutboxMessage.kind == "visitor_cancellation",
            )
        ).one()
        attached = Calendar.from_ical(mail.attachments[0]["content"])
        body, links = mail.body_text, mail.link_booking_ids
    for calendar in (downloaded, attached):
        assert str(calendar["method"]) == "CANCEL"
        event = calendar.walk("VEVENT")[0]
        description = str(event["description"])
        assert "book a new call: https://example.test/book" in description
        assert "manage" not in description.lower() and "reschedule" not in description.lower()
        assert str(event["url"]) == "https://example.test/book"
    assert "book a new call:\nhttps://example.test/book" in body
    assert "booking page" not in body and "/booking/" not in body
    assert links == []  # no private link is minted for an email that does not carry one
