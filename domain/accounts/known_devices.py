"""Known-device cookies (OWASP "device cookies"): proof that a browser has logged in to the
owner's account before, which exempts it from the limits meant for strangers.

The value is signed with the secret key and names the owner, a random device id and when
it was issued; it proves nothing about who holds it, so it only ever relaxes throttling,
never replaces the password or the second factor.
"""

import secrets
from datetime import datetime, timedelta

from itsdangerous import BadSignature, URLSafeSerializer

COOKIE_NAME = "owner_device"
COOKIE_PATH = "/owner"
MAX_AGE = timedelta(days=365)
SALT = "owner-known-device"


def issue_device_cookie(secret_key: str, owner_id: int, now: datetime) -> tuple[str, str]:
    """A new cookie value and the device id it carries."""
    device_id = secrets.token_urlsafe(18)
    value = URLSafeSerializer(secret_key, salt=SALT).dumps([owner_id, device_id, now.timestamp()])
    return value, device_id


def read_device_cookie(
    secret_key: str, value: str | None, owner_id: int, now: datetime
) -> str | None:
    """The device id of a genuine, unexpired cookie issued for this owner, else None."""
    try:
        named, device_id, issued = URLSafeSerializer(secret_key, salt=SALT).loads(value or "")
    except (BadSignature, ValueError, TypeError):
        return None
    if named != owner_id or not isinstance(device_id, str) or not isinstance(issued, int | float):
        return None
    if now.timestamp() - issued > MAX_AGE.total_seconds():
        return None
    return device_id
