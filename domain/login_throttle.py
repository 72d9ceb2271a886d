"""How long a login must wait after failures: slowed first, then locked for a while.

Counted separately for the account and for the client's address, over failures since the
last success in the last 15 minutes. The numbers are plain so the owner can be told them.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

WINDOW = timedelta(minutes=15)
LOCK_DURATION = timedelta(minutes=15)
SLOW_AFTER = 3  # failures before each attempt must wait
ACCOUNT_LOCK_AFTER = 10
ADDRESS_LOCK_AFTER = 20
MAX_DELAY = timedelta(minutes=5)


@dataclass(frozen=True)
class Wait:
    until: datetime
    locked: bool

    def message(self, now: datetime) -> str:
        seconds = max(1, int((self.until - now).total_seconds() + 0.999))
        span = f"{seconds} seconds" if seconds < 120 else f"{(seconds + 59) // 60} minutes"
        if self.locked:
            return f"Too many failed attempts: logging in is locked. Try again in {span}."
        return f"Too many failed attempts. Please wait {span} before trying again."


def recent_failures(attempts: Sequence[tuple[datetime, bool]], now: datetime) -> list[datetime]:
    """Failures inside the window since the last success, oldest first."""
    failures: list[datetime] = []
    for at, succeeded in sorted(attempts):
        if at < now - WINDOW:
            continue
        failures = [] if succeeded else [*failures, at]
    return failures


def wait_for(failures: Sequence[datetime], lock_after: int, now: datetime) -> Wait | None:
    count = len(failures)
    if count < SLOW_AFTER:
        return None
    last = failures[-1]
    if count >= lock_after:
        until, locked = last + LOCK_DURATION, True
    else:
        until, locked = (
            last + min(timedelta(seconds=5 * 2 ** (count - SLOW_AFTER)), MAX_DELAY),
            False,
        )
    return Wait(until, locked) if until > now else None


def login_wait(
    account_attempts: Sequence[tuple[datetime, bool]],
    address_attempts: Sequence[tuple[datetime, bool]],
    now: datetime,
) -> Wait | None:
    waits = [
        wait_for(recent_failures(account_attempts, now), ACCOUNT_LOCK_AFTER, now),
        wait_for(recent_failures(address_attempts, now), ADDRESS_LOCK_AFTER, now),
    ]
    found = [wait for wait in waits if wait]
    return max(found, key=lambda wait: wait.until) if found else None
