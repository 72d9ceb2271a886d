"""Every public page a visitor can meet, rendered through the real routes.

Shared by the title test and the Nu HTML Checker test, so a page added here is checked by
both. A page no route can be made to show on demand (the 500 and 429 pages) is rendered
from its template inside a request, as its error handler does.
"""

import re
from pathlib import Path

from flask import render_template

from tests.conftest import ARTICLE_SLUG

Pages = dict[str, tuple[str, int]]


def public_pages(app, client, visitor) -> Pages:
    """{label: (HTML, status)}: reading, booking, manage and error pages."""
    pages: Pages = {}

    def keep(label, response, status=200):
        assert response.status_code == status, (label, response.status_code)
        pages[label] = (response.get_data(as_text=True), status)

    keep_reading_pages(app, client, keep)
    keep_booking_pages(client, visitor, keep)
    keep_manage_pages(client, visitor, keep)
    keep_error_pages(app, client, keep)
    return pages


def keep_reading_pages(app, client, keep) -> None:
    keep("home", client.get("/"))
    topic = next(iter(app.extensions["library"].topics))
    keep("topic", client.get(f"/library/topics/{topic}"))
    keep("article", client.get(f"/library/{ARTICLE_SLUG}"))


def keep_booking_pages(client, visitor, keep) -> None:
    keep("book", client.get("/book", query_string={"article": ARTICLE_SLUG}))
    slot = visitor.free_slots()[0]
    keep(
        "book-day", client.get("/book", query_string={"timezone": "Asia/Kolkata", "day": slot[:10]})
    )
    keep("book-details", client.get("/book", query_string={"slot": slot}))
    keep("book-refused", visitor.book(name="", email="not an address"), 400)
    keep("book-honeypot", visitor.book(website="http://spam.example"))


def keep_manage_pages(client, visitor, keep) -> None:
    confirmed = visitor.book().headers["Location"]
    manage_url = re.match(r"^(/booking/[A-Za-z0-9_-]{43})/confirmed$", confirmed).group(1)
    keep("confirmed", client.get(confirmed))
    keep("manage", client.get(manage_url))
    keep("reschedule", client.get(f"{manage_url}/reschedule"))
    slot = visitor.free_slots(days_ahead=4)[0]
    keep("reschedule-slot", client.get(f"{manage_url}/reschedule", query_string={"slot": slot}))
    client.post(f"{manage_url}/cancel")
    keep("manage-cancelled", client.get(manage_url))
    keep("request-links", client.get("/booking/links"))
    keep("request-links-refused", client.post("/booking/links", data={"email": "nope"}), 400)
    keep("links-sent", client.post("/booking/links", data={"email": "ada@example.com"}))
    keep("link-not-valid", client.get("/booking/" + "x" * 43), 404)


def keep_error_pages(app, client, keep) -> None:
    keep("error-404", client.get("/no-such-page"), 404)
    keep("error-405", client.delete("/"), 405)
    shown_by_handlers = {
        "error-413": "errors/413.html",
        "error-500": "errors/500.html",
        "error-503": "errors/503.html",
        "too-many": "booking/too_many.html",
    }
    # nginx's own error pages (deploy/nginx): static files, shown when no app server answers.
    for page in sorted((Path(app.static_folder) / "errors").glob("*.html")):
        keep(f"nginx-{page.stem}", app.response_class(page.read_text()))
    for label, template in shown_by_handlers.items():
        with app.test_request_context("/"):
            html = render_template(template)
        keep(label, app.response_class(html))
    for label, expired in (("error-400", False), ("error-400-expired-form", True)):
        with app.test_request_context("/"):
            html = render_template("errors/400.html", expired=expired)
        keep(label, app.response_class(html))
