"""`flask backup create` and `flask backup restore`, on SQLite and PostgreSQL, while the site
takes bookings."""

import threading
import time

from sqlalchemy import select

from extensions import db
from models import Booking
from tests.conftest import Visitor


def booking_states(app) -> dict[int, str]:
    with app.app_context():
        return dict(db.session.execute(select(Booking.id, Booking.status)).all())


def run(runner, *args, **kwargs):
    return runner.invoke(args=["backup", *args], **kwargs)


def test_a_restore_brings_back_the_database_as_it_was_at_the_backup(
    app, client, runner, tmp_path, open_hours
):
    visitor = Visitor(client)
    slots = visitor.free_slots()
    first = visitor.book(slot=slots[0]).headers["Location"].removesuffix("/confirmed")
    visitor.book(slot=slots[2], email="grace@compilers.example")
    at_backup = booking_states(app)

    created = run(runner, "create", str(tmp_path / "site.backup"))
    assert created.exit_code == 0, created.output
    assert "Backup written to" in created.output

    client.post(f"{first}/cancel")
    visitor.book(slot=slots[4], email="alan@turing.example")
    assert booking_states(app) != at_backup

    restored = run(runner, "restore", str(tmp_path / "site.backup"), "--yes")
    assert restored.exit_code == 0, restored.output
    assert booking_states(app) == at_backup
    assert "Your strategy call" in client.get(first).get_data(as_text=True)


def test_a_backup_taken_while_bookings_arrive_holds_every_one_acknowledged_before_it(
    app, runner, tmp_path, open_hours
):
    acknowledged: list[tuple[float, str]] = []  # (when the 303 came back, its manage link)
    stop = threading.Event()

    def keep_booking(index: int) -> None:
        visitor = Visitor(app.test_client())
        slots = visitor.free_slots(days_ahead=2 + index)
        for n, slot in enumerate(slots[:12]):
            if stop.is_set():
                return
            response = visitor.book(slot=slot, email=f"p{index}-{n}@example.org")
            if response.status_code == 303:
                acknowledged.append((time.monotonic(), response.headers["Location"]))

    threads = [threading.Thread(target=keep_booking, args=(i,)) for i in range(3)]
    for thread in threads:
        thread.start()
    while len(acknowledged) < 3:
        time.sleep(0.01)
    backup_began = time.monotonic()
    created = run(runner, "create", str(tmp_path / "busy.backup"))
    stop.set()
    for thread in threads:
        thread.join(timeout=60)
    assert created.exit_code == 0, created.output
    before = [link for at, link in acknowledged if at < backup_began]

    assert run(runner, "restore", str(tmp_path / "busy.backup"), "--yes").exit_code == 0
    client = app.test_client()
    for link in before:
        assert client.get(link).status_code == 200, link
    assert len(booking_states(app)) >= len(before) > 0


def test_restore_refuses_a_file_that_is_not_a_backup_and_changes_nothing(
    app, visitor, runner, tmp_path
):
    visitor.book()
    before = booking_states(app)
    not_a_backup = tmp_path / "notes.txt"
    not_a_backup.write_text("shopping list\n")
    result = run(runner, "restore", str(not_a_backup), "--yes")
    assert result.exit_code == 1
    assert "Error:" in result.output
    assert booking_states(app) == before


def test_restore_asks_first_and_a_no_changes_nothing(app, visitor, runner, tmp_path):
    visitor.book()
    assert run(runner, "create", str(tmp_path / "a.backup")).exit_code == 0
    visitor.book(slot=visitor.free_slots()[3], email="later@example.org")
    before = booking_states(app)
    result = run(runner, "restore", str(tmp_path / "a.backup"), input="n\n")
    assert result.exit_code == 1
    assert "Replace everything" in result.output
    assert booking_states(app) == before


def test_a_backup_never_overwrites_a_file(runner, tmp_path, app):
    existing = tmp_path / "keep.me"
    existing.write_text("precious")
    result = run(runner, "create", str(existing))
    assert result.exit_code == 1
    assert "already exists" in result.output
    assert existing.read_text() == "precious"
