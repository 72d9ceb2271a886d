"""Signed and keyed values: the booking form's render time, and the client key that
counts bookings per client without storing the client's address.

Private booking links are in domain/booking/links.py.
"""

import hashlib
import hmac
from datetime import UTC, datetime

from itsdangerous import BadSignature, URLSafeSerializer

RENDER_SALT = "booking-form-rendered-at"


def client_key(secret_key: str, address: str) -> str:
    """A keyed hash of a client's address: equal for equal addresses, useless without the key."""
    return hmac.new(secret_key.encode(), f"client:{address}".encode(), hashlib.sha256).hexdigest()


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
