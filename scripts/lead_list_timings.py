"""Server time of each lead-list view, and the CSV's time and memory, on a filled database.

    APP_ENV=development python scripts/lead_list_timings.py DATABASE_URL [--csv]

Fill the database first (`flask owner fake-leads 1000000`). Each view is asked for 2 times
to warm up, then 20 times through Flask's test client; the median and the slowest are
printed in milliseconds. A figure for reading, not a test: `make bench` owns the harness.
"""

import argparse
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select  # noqa: E402

import config as settings  # noqa: E402
from app import create_app  # noqa: E402
from domain.accounts.owners import create_or_reset_owner  # noqa: E402
from extensions import db  # noqa: E402
from models import Lead  # noqa: E402

EMAIL, PASSWORD = "timings@example.test", "a long enough timing password"
ROUNDS = 20


def views(article: str, email_fragment: str) -> list[tuple[str, dict]]:
    return [
        ("page 1, newest", {}),
        ("page 200, newest", {"page": 200}),
        ("sort fit score", {"sort": "score"}),
        ("sort fit score, page 200", {"sort": "score", "page": 200}),
        ("sort next call", {"sort": "next_call"}),
        ("sort next call, page 200", {"sort": "next_call", "page": 200}),
        ("status new", {"status": "new"}),
        ("status won, sort fit", {"status": "won", "sort": "score"}),
        ("status spam, sort next call", {"status": "spam", "sort": "next_call"}),
        ("status qualified+proposal, p. 200", {"status": ["qualified", "proposal"], "page": 200}),
        ("article", {"article": article}),
        ("article, sort fit, page 200", {"article": article, "sort": "score", "page": 200}),
        ("article, sort next call", {"article": article, "sort": "next_call"}),
        ("engagement engineer, sort fit", {"engagement": "engineer", "sort": "score"}),
        ("one month", {"from": "2026-06-01", "to": "2026-06-30"}),
        ("one day, sort fit", {"from": "2026-06-01", "to": "2026-06-01", "sort": "score"}),
        ("one day, next call", {"from": "2026-06-01", "to": "2026-06-01", "sort": "next_call"}),
        ("search name 'lovel'", {"q": "lovel"}),
        ("search name 'lovel', page 200", {"q": "lovel", "page": 200}),
        ("search name 'lovel', sort fit", {"q": "lovel", "sort": "score"}),
        ("search email fragment (1 match)", {"q": email_fragment}),
        ("search company 'harbour'", {"q": "harbour"}),
        ("search 'hopper' + status won", {"q": "hopper", "status": "won"}),
        ("search 3 chars, no match 'qqx'", {"q": "qqx"}),
        ("search 2 chars 'ov'", {"q": "ov"}),
        ("search 2 chars, no match 'qx'", {"q": "qx"}),
    ]  # fmt: skip


def app_for(url: str):
    class Timings(settings.DevelopmentConfig):
        DATABASE_URL = url
        SQLALCHEMY_DATABASE_URI = url
        WTF_CSRF_ENABLED = False
        RATELIMIT_ENABLED = False

    app = create_app(Timings)
    with app.app_context():
        create_or_reset_owner(db.session, EMAIL, PASSWORD)
        db.session.commit()
    return app


def median_ms(client, query: dict) -> tuple[float, float, str]:
    times = []
    for round_ in range(ROUNDS + 2):
        started = time.perf_counter()
        response = client.get("/owner/leads", query_string=query)
        elapsed = time.perf_counter() - started
        assert response.status_code == 200, response.status_code
        if round_ >= 2:
            times.append(elapsed * 1000)
    html = response.get_data(as_text=True)
    count = html.split('<p class="lead-count">', 1)[1].split(" ", 1)[0]
    return statistics.median(times), max(times), count


def csv_figures(client) -> str:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    response = client.get("/owner/leads.csv", buffered=False)
    lines = sum(chunk.count(b"\r\n") for chunk in response.response)
    response.close()
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    seconds = time.perf_counter() - started
    return f"CSV: {lines - 1:,} rows in {seconds:.1f} s, peak memory +{grown:.0f} MB"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--csv", action="store_true", help="only the CSV figure")
    args = parser.parse_args()
    app = app_for(args.url)
    client = app.test_client()
    response = client.post("/owner/login", data={"email": EMAIL, "password": PASSWORD})
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    if args.csv:
        print(csv_figures(client))
        return
    with app.app_context():
        total = db.session.scalar(select(func.count()).select_from(Lead))
        article = db.session.scalar(
            select(Lead.source_article).where(Lead.source_article.is_not(None)).limit(1)
        )
        email = db.session.scalar(select(Lead.email).order_by(Lead.id.desc()).limit(1))
    fragment = email.split("@")[0][-8:]  # ".lastname.N" tail: one lead's number
    print(f"{total:,} leads on {args.url.split(':')[0]}")
    print("| view | median ms | slowest ms | count shown |\n|---|---|---|---|")
    for label, query in views(article, fragment):
        median, slowest, count = median_ms(client, query)
        print(f"| {label} | {median:.1f} | {slowest:.1f} | {count} |", flush=True)


if __name__ == "__main__":
    main()
