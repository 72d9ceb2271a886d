"""The owner's account: create or reset it, check a password, start and end sessions, and
the idle limit of a signed-in session."""

import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.accounts.passwords import hash_password, needs_rehash, verify_password
from models import Owner

# Verifying against this keeps a login for an unknown email as slow as for the real one.
DUMMY_HASH = hash_password("not-the-password-of-anyone")
# The owner's session ends after this long without an owner page, and its "last seen"
# mark moves at most this often, so the cookie is not sent back on every request.
IDLE_LIMIT = timedelta(hours=12)
SEEN_REFRESH = timedelta(minutes=5)
# Between a right password and the second factor.
PENDING_LOGIN_LIFETIME = timedelta(minutes=5)


def normalise(email: str) -> str:
    return email.strip().lower()


def owner_by_email(session: Session, email: str) -> Owner | None:
    return session.scalar(select(Owner).where(Owner.email == normalise(email)))


def create_or_reset_owner(session: Session, email: str, password: str) -> Owner:
    owner = owner_by_email(session, email)
    if owner is None:
        owner = Owner(email=normalise(email))
        session.add(owner)
    owner.password_hash = hash_password(password)
    owner.session_token = secrets.token_hex(16)  # a reset also ends every session
    return owner


def check_password(owner: Owner | None, password: str) -> bool:
    """Whether `password` is the owner's; as slow for no owner as for a wrong password."""
    ok = verify_password(owner.password_hash if owner else DUMMY_HASH, password)
    if ok and owner is not None and needs_rehash(owner.password_hash):
        owner.password_hash = hash_password(password)
    return ok and owner is not None


def start_session(owner: Owner) -> None:
    owner.session_token = secrets.token_hex(16)  # a fresh session at every login


def end_sessions(owner: Owner) -> None:
    owner.session_token = secrets.token_hex(16)


def session_idle(seen: datetime | None, now: datetime) -> bool:
    """A session with no "last seen" mark, or one older than IDLE_LIMIT, has ended."""
    return seen is None or now - seen > IDLE_LIMIT


def seen_mark_due(seen: datetime, now: datetime) -> bool:
    return now - seen >= SEEN_REFRESH
