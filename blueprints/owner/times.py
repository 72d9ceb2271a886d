"""How owner pages write a moment for machines: the `machine_time` template filter.

HTML's `datetime` attribute takes seconds at most with a zone; Python's isoformat() adds
microseconds when a stored time has them, which the Nu HTML Checker refuses. Readable times
are written by `in_zone` (booking helpers), always in the owner's zone.
"""

from datetime import UTC, datetime

from blueprints.owner import bp


@bp.app_template_filter("machine_time")
def machine_time(moment: datetime) -> str:
    """2026-03-29T00:59:59+00:00: UTC, whole seconds, valid in a `datetime` attribute."""
    if moment.tzinfo is None:  # SQLite hands back naive datetimes, stored as UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="seconds")
