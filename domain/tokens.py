"""Signed values handed to visitors: the private manage link and the form's render time.

The manage token signs a lead's id and a random nonce stored with the lead, so it is
unguessable, cannot be forged without the secret key, survives reschedules (it names the
lead, not a booking) and dies when the lead is erased or the nonce is renewed.
"""

import secrets
from datetime import UTC, datetime

from itsdangerous import BadSignature, URLSafeSerializer

MANAGE_SALT = "booking-manage-link"
RENDER_SALT = "booking-form-rendered-at"


def new_nonce() -> str:
    return secrets.token_urlsafe(24)


def manage_token(secret_key: str, lead_id: int, nonce: str) -> str:
    return URLSafeSerializer(secret_key, salt=MANAGE_SALT).dumps([lead_id, nonce])


def read_manage_token(secret_key: str, token: str) -> tuple[int, str] | None:
    """(lead id, nonce) from a genuine token, else None; the caller checks the nonce."""
    try:
        lead_id, nonce = URLSafeSerializer(secret_key, salt=MANAGE_SALT).loads(token)
    except (BadSignature, ValueError, TypeError):
        return None
    if not isinstance(lead_id, int) or not isinstance(nonce, str):
        return None
    return lead_id, nonce


def render_stamp(secret_key: str, now: datetime) -> str:
    return URLSafeSerializer(secret_key, salt=RENDER_SALT).dumps(now.timestamp())


def seconds_since_render(secret_key: str, stamp: str, now: datetime) -> float | None:
    """How long the visitor spent on the form; None for a missing or forged stamp."""
    try:
        rendered = URLSafeSerializer(secret_key, salt=RENDER_SALT).loads(stamp or "")
    except BadSignature:
        return None
    if not isinstance(rendered, int | float):
        return None
    return now.timestamp() - float(rendered)


def utc_now() -> datetime:
    return datetime.now(UTC)
