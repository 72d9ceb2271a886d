"""Login attempts in the database: recorded (never the password or code), counted per
scope for domain/accounts/login_throttle.py, and cleared by `flask owner unlock`."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from domain.accounts.login_throttle import WINDOW, CodeCounts, PasswordCounts, recent_failures
from models import LoginAttempt

LOGIN_KINDS = ("password", "code")


def record_attempt(
    session: Session,
    kind: str,
    *,
    email: str,
    ip: str,
    now: datetime,
    succeeded: bool,
    completed: bool = False,
    device: str | None = None,
    pending_id: int | None = None,
) -> LoginAttempt:
    attempt = LoginAttempt(
        kind=kind,
        email=email[:320],
        ip=ip[:64],
        at=now,
        succeeded=succeeded,
        completed=completed,
        device=device,
        pending_id=pending_id,
    )
    session.add(attempt)
    session.flush()  # the code step refers to the password step by its id
    return attempt


def failures_in(session: Session, now: datetime, kinds, *where) -> list[datetime]:
    """Attempts of `kinds` that did not sign in, since the scope's last completed login."""
    rows = session.execute(
        select(LoginAttempt.at, LoginAttempt.completed).where(
            LoginAttempt.at >= now - WINDOW,
            or_(LoginAttempt.kind.in_(kinds), LoginAttempt.completed),
            *where,
        )
    )
    return recent_failures([(at, completed) for at, completed in rows], now)


def password_counts(session: Session, account: str, ip: str, now: datetime) -> PasswordCounts:
    unknown = LoginAttempt.device.is_(None)
    kinds = ("password",)
    return PasswordCounts(
        address=failures_in(session, now, kinds, unknown, LoginAttempt.ip == ip),
        account_address=failures_in(
            session, now, kinds, unknown, LoginAttempt.ip == ip, LoginAttempt.email == account
        ),
        account=failures_in(session, now, kinds, unknown, LoginAttempt.email == account),
    )


def code_counts(
    session: Session, account: str, ip: str, pending_id: int, now: datetime
) -> CodeCounts:
    unknown = LoginAttempt.device.is_(None)
    kinds = ("code",)
    pending = session.scalar(
        select(func.count())
        .select_from(LoginAttempt)
        .where(LoginAttempt.pending_id == pending_id, LoginAttempt.succeeded.is_(False))
    )
    return CodeCounts(
        pending=pending or 0,
        address=failures_in(session, now, kinds, unknown, LoginAttempt.ip == ip),
        account=failures_in(session, now, kinds, unknown, LoginAttempt.email == account),
    )


def device_failures(session: Session, device: str, now: datetime) -> list[datetime]:
    return failures_in(session, now, LOGIN_KINDS, LoginAttempt.device == device)


def reauth_failures(session: Session, account: str, now: datetime) -> list[datetime]:
    """Wrong passwords or codes given to the security settings, since the last right one."""
    rows = session.execute(
        select(LoginAttempt.at, LoginAttempt.succeeded).where(
            LoginAttempt.kind == "reauth",
            LoginAttempt.email == account,
            LoginAttempt.at >= now - WINDOW,
        )
    )
    return recent_failures([(at, succeeded) for at, succeeded in rows], now)


@dataclass(frozen=True)
class Cleared:
    attempts: int
    addresses: int


def clear_limits(session: Session) -> Cleared:
    """Forget every attempt that did not sign in: every limit is derived from them."""
    uncompleted = LoginAttempt.completed.is_(False)
    addresses = session.scalar(
        select(func.count(func.distinct(LoginAttempt.ip))).where(uncompleted)
    )
    deleted = session.execute(delete(LoginAttempt).where(uncompleted)).rowcount
    return Cleared(attempts=deleted, addresses=addresses or 0)
