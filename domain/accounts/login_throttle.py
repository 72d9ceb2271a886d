"""Who must wait before logging in, and for how long: plain decisions from counted failures.

OWASP's "device cookies" scheme (Slow Down Online Guessing Attacks with Device Cookies):
a client holding a valid known-device cookie for the account is only limited per device;
every other client is limited per address (any account), per (account, address), and by
an account-wide limit. Failures from many addresses therefore lock out the strangers,
never the owner on a device that has logged in before. With two-factor sign-in on, the
account-wide limit refuses nobody: the password is checked but whether it was right is
not said, and the second factor is the gate.

A scope's failures are the attempts inside WINDOW since that scope's last completed login.
The numbers are module constants so the owner can be told them.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

WINDOW = timedelta(minutes=15)
LOCK_DURATION = timedelta(minutes=15)
FIRST_DELAY = timedelta(seconds=5)  # doubles with each failure past `slow_after`


@dataclass(frozen=True)
class Limit:
    slow_after: int  # failures after which each attempt must wait
    lock_after: int | None  # failures that lock for LOCK_DURATION; None: it only slows
    max_delay: timedelta


# Password step, clients without a valid known-device cookie.
ADDRESS_LIMIT = Limit(slow_after=5, lock_after=20, max_delay=timedelta(minutes=5))
ACCOUNT_ADDRESS_LIMIT = Limit(slow_after=3, lock_after=10, max_delay=timedelta(minutes=5))
ACCOUNT_LIMIT = Limit(slow_after=10, lock_after=30, max_delay=timedelta(minutes=5))
# A known device is trusted until this many failures under its cookie inside WINDOW.
DEVICE_LOCK_AFTER = 10
# Code step: wrong codes for one pending login before the password must be given again.
PENDING_CODE_TRIES = 5
CODE_ADDRESS_LIMIT = Limit(slow_after=5, lock_after=15, max_delay=timedelta(minutes=5))
# Only someone who knows the password reaches this one, and it never locks.
CODE_ACCOUNT_LIMIT = Limit(slow_after=5, lock_after=None, max_delay=timedelta(minutes=1))
# Asking a signed-in owner for the password or a code again (security settings).
REAUTH_LIMIT = Limit(slow_after=3, lock_after=10, max_delay=timedelta(minutes=5))


@dataclass(frozen=True)
class Wait:
    until: datetime
    locked: bool

    def span(self, now: datetime) -> str:
        seconds = max(1, int((self.until - now).total_seconds() + 0.999))
        return f"{seconds} seconds" if seconds < 120 else f"{(seconds + 59) // 60} minutes"

    def message(self, now: datetime) -> str:
        span = self.span(now)
        if self.locked:
            return f"Too many failed attempts: logging in is locked. Try again in {span}."
        return f"Too many failed attempts. Please wait {span} before trying again."


def recent_failures(attempts: Sequence[tuple[datetime, bool]], now: datetime) -> list[datetime]:
    """(time, completed a login) in, failures inside WINDOW since the last completion out."""
    failures: list[datetime] = []
    for at, completed in sorted(attempts):
        if at < now - WINDOW:
            continue
        failures = [] if completed else [*failures, at]
    return failures


def wait_for(failures: Sequence[datetime], limit: Limit, now: datetime) -> Wait | None:
    count = len(failures)
    if count < limit.slow_after:
        return None
    last = max(failures)
    if limit.lock_after is not None and count >= limit.lock_after:
        until, locked = last + LOCK_DURATION, True
    else:
        doublings = min(count - limit.slow_after, 20)  # past max_delay long before this
        delay = min(FIRST_DELAY * 2**doublings, limit.max_delay)
        until, locked = last + delay, False
    return Wait(until, locked) if until > now else None


def longest(*waits: Wait | None) -> Wait | None:
    found = [wait for wait in waits if wait]
    return max(found, key=lambda wait: wait.until) if found else None


def device_locked(device_failures: Sequence[datetime], now: datetime) -> bool:
    """A device cookie with this many recent failures is treated as absent."""
    recent = [at for at in device_failures if at >= now - WINDOW]
    return len(recent) >= DEVICE_LOCK_AFTER


@dataclass(frozen=True)
class PasswordCounts:
    """Failures of clients without a valid known-device cookie."""

    address: Sequence[datetime]  # from this address, any account
    account_address: Sequence[datetime]  # for this account from this address
    account: Sequence[datetime]  # for this account from any address


@dataclass(frozen=True)
class PasswordDecision:
    wait: Wait | None = None  # refuse, and say how long to wait
    hide_result: bool = False  # check the password, but say nothing of whether it was right


def password_decision(
    counts: PasswordCounts, now: datetime, *, known_device: bool, two_factor: bool
) -> PasswordDecision:
    if known_device:
        return PasswordDecision()
    by_address = longest(
        wait_for(counts.address, ADDRESS_LIMIT, now),
        wait_for(counts.account_address, ACCOUNT_ADDRESS_LIMIT, now),
    )
    if by_address:
        return PasswordDecision(wait=by_address)
    account_wide = wait_for(counts.account, ACCOUNT_LIMIT, now)
    if account_wide is None:
        return PasswordDecision()
    if two_factor:
        return PasswordDecision(hide_result=True)
    return PasswordDecision(wait=account_wide)


@dataclass(frozen=True)
class CodeCounts:
    pending: int  # wrong codes given for this pending login
    address: Sequence[datetime]  # code failures from this address, unknown devices
    account: Sequence[datetime]  # code failures for this account, unknown devices


@dataclass(frozen=True)
class CodeDecision:
    wait: Wait | None = None
    start_again: bool = False  # this pending login has had its tries


def code_decision(counts: CodeCounts, now: datetime, *, known_device: bool) -> CodeDecision:
    if counts.pending >= PENDING_CODE_TRIES:
        return CodeDecision(start_again=True)
    if known_device:
        return CodeDecision()
    return CodeDecision(
        wait=longest(
            wait_for(counts.address, CODE_ADDRESS_LIMIT, now),
            wait_for(counts.account, CODE_ACCOUNT_LIMIT, now),
        )
    )


def reauth_wait(failures: Sequence[datetime], now: datetime) -> Wait | None:
    return wait_for(failures, REAUTH_LIMIT, now)
