"""The owner's second factor: TOTP (RFC 6238: 30 s, 6 digits, one step either side) and
ten one-time recovery codes.

A code is accepted at most once: the time step it matched is stored, and only a later
step is accepted after it. Recovery codes are 80 random bits, shown once and stored as
SHA-256 only; using one marks it used in the same UPDATE that checks it is unused, so
two requests racing with one code cannot both pass.
"""

import hashlib
import re
import secrets
from datetime import datetime

import pyotp
import segno
from pyotp.utils import strings_equal
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from models import Owner, RecoveryCode

DIGITS = 6
INTERVAL = 30
VALID_WINDOW = 1  # steps either side: the phone's clock may be a little off
RECOVERY_CODE_COUNT = 10
RECOVERY_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"  # base32: no 0/O, 1/I confusion
RECOVERY_LENGTH = 16  # 80 bits
_SEPARATORS = re.compile(r"[\s-]+")


def new_secret() -> str:
    return pyotp.random_base32()  # 160 bits, as RFC 4226 recommends


def grouped(text: str, size: int = 4) -> str:
    return " ".join(text[i : i + size] for i in range(0, len(text), size))


def provisioning_uri(secret: str, account: str, issuer: str) -> str:
    return pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL).provisioning_uri(
        name=account, issuer_name=issuer
    )


def qr_svg(uri: str) -> str:
    """The QR code as inline SVG markup: presentation attributes only, no style, so the
    CSP's style-src 'self' accepts it; dark on white with its quiet zone, in any scheme."""
    return segno.make(uri, error="m").svg_inline(
        scale=4,
        border=4,
        dark="#000",
        light="#fff",
        omitsize=True,  # a viewBox instead: the stylesheet sizes it
        svgclass="qr-code",
        lineclass=None,
        title="QR code of your two-factor key",
    )


def compact(code: str) -> str:
    return _SEPARATORS.sub("", code).upper()


def matching_step(secret: str, code: str, now: datetime, last_step: int | None) -> int | None:
    """The time step `code` belongs to, if it is valid at `now` and later than `last_step`."""
    code = compact(code)
    if len(code) != DIGITS or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL)
    current = totp.timecode(now)
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if strings_equal(code, totp.generate_otp(step)) and (last_step is None or step > last_step):
            return step
    return None


def new_recovery_codes(count: int = RECOVERY_CODE_COUNT) -> list[str]:
    codes = [
        "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_LENGTH))
        for _ in range(count)
    ]
    return ["-".join(code[i : i + 4] for i in range(0, RECOVERY_LENGTH, 4)) for code in codes]


def recovery_code_hash(code: str) -> str | None:
    """SHA-256 of the code as typed, ignoring case, spaces and dashes; None if malformed."""
    code = compact(code)
    if len(code) != RECOVERY_LENGTH or any(c not in RECOVERY_ALPHABET for c in code):
        return None
    return hashlib.sha256(code.encode()).hexdigest()


def begin_setup(owner: Owner) -> None:
    owner.totp_pending_secret = new_secret()


def confirm_setup(session: Session, owner: Owner, code: str, now: datetime) -> list[str] | None:
    """Turn two-factor sign-in on if `code` matches the pending secret; the recovery codes."""
    if not owner.totp_pending_secret:
        return None
    step = matching_step(owner.totp_pending_secret, code, now, None)
    if step is None:
        return None
    owner.totp_secret, owner.totp_pending_secret = owner.totp_pending_secret, None
    owner.totp_last_step = step
    owner.totp_enabled_at = now
    return replace_recovery_codes(session, owner, now)


def use_totp(session: Session, owner: Owner, code: str, now: datetime) -> bool:
    step = matching_step(owner.totp_secret or "", code, now, owner.totp_last_step)
    if step is None or not owner.totp_secret:
        return False
    result = session.execute(
        update(Owner)
        .where(
            Owner.id == owner.id,
            or_(Owner.totp_last_step.is_(None), Owner.totp_last_step < step),
        )
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False  # another request used this step first
    owner.totp_last_step = step
    return True


def use_recovery_code(session: Session, owner: Owner, code: str, now: datetime) -> bool:
    digest = recovery_code_hash(code)
    if digest is None or not owner.totp_secret:
        return False
    result = session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.owner_id == owner.id,
            RecoveryCode.code_hash == digest,
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def use_second_factor(session: Session, owner: Owner, code: str, now: datetime) -> str | None:
    """ "totp" or "recovery" for the kind of code accepted (and now used up), else None."""
    if use_totp(session, owner, code, now):
        return "totp"
    if use_recovery_code(session, owner, code, now):
        return "recovery"
    return None


def recovery_codes_left(session: Session, owner: Owner) -> int:
    return session.scalar(
        select(func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.owner_id == owner.id, RecoveryCode.used_at.is_(None))
    )


def replace_recovery_codes(session: Session, owner: Owner, now: datetime) -> list[str]:
    """New codes for the owner, the old ones gone; the plain codes are returned once."""
    session.execute(delete(RecoveryCode).where(RecoveryCode.owner_id == owner.id))
    codes = new_recovery_codes()
    session.add_all(
        RecoveryCode(owner_id=owner.id, code_hash=recovery_code_hash(code), created_at=now)
        for code in codes
    )
    return codes


def turn_off(session: Session, owner: Owner) -> None:
    owner.totp_secret = owner.totp_pending_secret = None
    owner.totp_last_step = owner.totp_enabled_at = None
    session.execute(delete(RecoveryCode).where(RecoveryCode.owner_id == owner.id))
