"""The owner's account: create or reset it, check a login, end every session at logout."""

import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.login_throttle import Wait, login_wait
from domain.passwords import hash_password, needs_rehash, verify_password
from models import LoginAttempt, Owner

# Verifying against this keeps a login for an unknown email as slow as for the real one.
DUMMY_HASH = hash_password("not-the-password-of-anyone")


def normalise(email: str) -> str:
    return email.strip().lower()


def create_or_reset_owner(session: Session, email: str, password: str) -> Owner:
    owner = session.scalar(select(Owner).where(Owner.email == normalise(email)))
    if owner is None:
        owner = Owner(email=normalise(email))
        session.add(owner)
    owner.password_hash = hash_password(password)
    owner.session_token = secrets.token_hex(16)  # a reset also ends every session
    return owner


def attempts_of(session: Session, column, value: str, now: datetime) -> list[tuple[datetime, bool]]:
    from domain.login_throttle import WINDOW

    rows = session.execute(
        select(LoginAttempt.at, LoginAttempt.succeeded).where(
            column == value, LoginAttempt.at >= now - WINDOW
        )
    )
    return [(at, succeeded) for at, succeeded in rows]


def current_wait(session: Session, email: str, ip: str, now: datetime) -> Wait | None:
    return login_wait(
        attempts_of(session, LoginAttempt.email, normalise(email), now),
        attempts_of(session, LoginAttempt.ip, ip, now),
        now,
    )


def authenticate(
    session: Session, email: str, password: str, ip: str, now: datetime
) -> Owner | None:
    """The owner when the password is right; every attempt is recorded. The caller commits."""
    owner = session.scalar(select(Owner).where(Owner.email == normalise(email)))
    ok = (
        verify_password(owner.password_hash if owner else DUMMY_HASH, password)
        and owner is not None
    )
    session.add(LoginAttempt(email=normalise(email)[:320], ip=ip[:64], at=now, succeeded=ok))
    if not ok:
        return None
    if needs_rehash(owner.password_hash):
        owner.password_hash = hash_password(password)
    owner.session_token = secrets.token_hex(16)  # a fresh session at every login
    return owner


def end_sessions(owner: Owner) -> None:
    owner.session_token = secrets.token_hex(16)
