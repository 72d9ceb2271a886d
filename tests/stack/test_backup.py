"""A backup taken with `flask backup create` while bookings arrive, restored with `flask
backup restore` into a database of its own, holds every booking the site acknowledged
before the backup began. Both commands run as an operator runs them, with the stack's
settings (`scripts/stack exec`)."""

import os
import queue
import threading
import time

from sqlalchemy import create_engine, text

from tests.stack.harness import create_database, database_url_named, drop_database
from tests.stack.load import Load, book_calls, free_slots

BOOKERS = 10  # started a third of a second apart: a booking lands every third of a second


def test_a_backup_taken_while_bookings_arrive_restores_every_booking_acknowledged_before_it(
    stack, stack_app, tmp_path
):
    slots: queue.Queue[str] = queue.Queue()
    for slot in free_slots(stack_app, BOOKERS * 4):
        slots.put(slot)
    load = Load()
    bookers = [
        threading.Thread(target=book_calls, args=(load, stack, slots, f"backup-{n}"))
        for n in range(BOOKERS)
    ]
    for booker in bookers:
        booker.start()
        time.sleep(0.35)
    backup = tmp_path / "stack.backup"
    restored_url = database_url_named(f"stack_restored_{os.getpid()}")
    try:
        deadline = time.monotonic() + 60
        while len(load.acknowledged) < BOOKERS and time.monotonic() < deadline:
            time.sleep(0.2)
        began = time.monotonic()
        created = stack.run("flask", "backup", "create", str(backup))
        ended = time.monotonic()
        time.sleep(2)  # bookings go on arriving after it, too
    finally:
        load.stop.set()
        for booker in bookers:
            booker.join(timeout=60)
    assert created.returncode == 0, created.stderr
    before = {key for key, _, at in load.acknowledged if at < began}
    during = {key for key, _, at in load.acknowledged if began <= at <= ended}
    assert before, "no booking was acknowledged before the backup began"
    assert load.failures() == []

    drop_database(restored_url)
    create_database(restored_url)
    try:
        restored = stack.run(
            "flask", "backup", "restore", "--yes", str(backup), DATABASE_URL=restored_url
        )
        assert restored.returncode == 0, restored.stderr
        engine = create_engine(restored_url)
        with engine.connect() as connection:
            kept = set(connection.execute(text("SELECT submission_key FROM booking")).scalars())
        engine.dispose()
    finally:
        drop_database(restored_url)
    print(
        f"\nbackup: {len(before)} bookings acknowledged before it began, all restored; "
        f"{len(during)} acknowledged while it ran, {len(during & kept)} of them in it"
    )
    assert before <= kept
