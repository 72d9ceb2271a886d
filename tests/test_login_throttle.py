"""The login limits as plain decisions: failures in, wait or go on out (no HTTP, no clock)."""

from datetime import UTC, datetime, timedelta

from domain.accounts.login_throttle import (
    ACCOUNT_LIMIT,
    DEVICE_LOCK_AFTER,
    PENDING_CODE_TRIES,
    CodeCounts,
    PasswordCounts,
    code_decision,
    device_locked,
    password_decision,
    recent_failures,
)

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def fails(count: int, step=timedelta(seconds=1)) -> list[datetime]:
    return [NOW - step * (count - i) for i in range(count)]


def counts(address=(), account_address=(), account=()) -> PasswordCounts:
    return PasswordCounts(address=address, account_address=account_address, account=account)


def test_a_few_failures_slow_one_address_and_many_lock_it():
    assert (
        password_decision(
            counts(account_address=fails(2)), NOW, known_device=False, two_factor=False
        ).wait
        is None
    )
    slowed = password_decision(
        counts(account_address=fails(3)), NOW, known_device=False, two_factor=False
    ).wait
    assert slowed and not slowed.locked
    locked = password_decision(
        counts(address=fails(20)), NOW, known_device=False, two_factor=False
    ).wait
    assert locked.locked and locked.until > NOW + timedelta(minutes=14)


def test_account_wide_failures_refuse_unknown_devices_but_never_a_known_one():
    many = counts(account=fails(ACCOUNT_LIMIT.lock_after))
    stranger = password_decision(many, NOW, known_device=False, two_factor=False)
    assert stranger.wait and stranger.wait.locked
    assert "Try again in 15 minutes" in stranger.wait.message(NOW)
    known = password_decision(many, NOW, known_device=True, two_factor=False)
    assert known.wait is None and not known.hide_result


def test_with_two_factor_the_account_wide_limit_hides_the_result_instead_of_refusing():
    many = counts(account=fails(ACCOUNT_LIMIT.lock_after))
    decision = password_decision(many, NOW, known_device=False, two_factor=True)
    assert decision.wait is None and decision.hide_result


def test_address_limits_still_apply_with_two_factor():
    decision = password_decision(
        counts(address=fails(20)), NOW, known_device=False, two_factor=True
    )
    assert decision.wait and decision.wait.locked


def test_a_completed_login_resets_a_scope_and_old_failures_expire():
    after_success = [(at, False) for at in fails(9)] + [(NOW - timedelta(seconds=1), True)]
    assert recent_failures(after_success, NOW) == []
    old = [(at, False) for at in fails(12, step=timedelta(minutes=10))]
    assert len(recent_failures(old, NOW)) == 1  # only the one inside the window


def test_a_device_cookie_with_many_failures_counts_as_absent():
    assert not device_locked(fails(DEVICE_LOCK_AFTER - 1), NOW)
    assert device_locked(fails(DEVICE_LOCK_AFTER), NOW)
    assert not device_locked(fails(DEVICE_LOCK_AFTER, step=timedelta(minutes=2)), NOW)


def test_codes_are_limited_per_pending_login_and_slowed_account_wide_for_strangers_only():
    assert code_decision(CodeCounts(PENDING_CODE_TRIES, [], []), NOW, known_device=True).start_again
    busy = CodeCounts(0, [], fails(8))
    slowed = code_decision(busy, NOW, known_device=False).wait
    assert slowed and not slowed.locked  # the account-wide code limit never locks
    assert code_decision(CodeCounts(0, [], fails(50)), NOW, known_device=False).wait.locked is False
    assert code_decision(busy, NOW, known_device=True).wait is None
