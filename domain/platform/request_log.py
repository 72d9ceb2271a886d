"""One JSON line per request, and the request id that ties a request's log lines together.

The id comes from the `X-Request-ID` header when it is a sane token (nginx's `$request_id`
is one), so a line can be matched with the proxy's; anything else (empty, too long, a
space, a line break, a NUL) is replaced by a fresh id rather than refused: a header the
visitor's software sent is no reason to turn a visitor away.

A request line holds no personal data: the path is redacted (domain/platform/log_redaction.py) and
carries no query string, since query values can be typed by visitors; no client address,
user agent, referrer or cookie. Labels an outsider chooses are bounded: an unusual HTTP
method is logged as "other".

The same request id is on every other log record written while the request runs
(`install_request_id_records`), as `%(request_id)s` for a log format.
"""

import json
import logging
import re
import sys
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from domain.platform.log_redaction import redact

SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
PATH_LIMIT = 256  # enough for every page of the site; a 10 KB path is not worth a log line
NO_REQUEST = "-"


def request_id_from(header: str | None) -> str:
    """The header's id when it is 1-64 of [A-Za-z0-9._-], else a fresh uuid4 hex."""
    if header and SANE_REQUEST_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


def method_label(method: str) -> str:
    return method if method in KNOWN_METHODS else "other"


def request_fields(
    *,
    request_id: str,
    method: str,
    endpoint: str | None,
    path: str,
    status: int,
    seconds: float,
    response_bytes: int | None,
) -> dict[str, Any]:
    """What one request line says, from plain values; `path` without its query string."""
    return {
        "request_id": request_id,
        "method": method_label(method),
        "endpoint": endpoint,
        "path": redact(path[:PATH_LIMIT]),
        "status": status,
        "duration_ms": round(seconds * 1000, 1),
        "bytes": response_bytes,
    }


class JsonLineFormatter(logging.Formatter):
    """A record as one line of JSON: time (UTC), level, logger, then the record's `fields`."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            **getattr(record, "fields", {"message": record.getMessage()}),
        }
        return json.dumps(line, separators=(",", ":"), ensure_ascii=True)


class StderrHandler(logging.StreamHandler):
    """Writes to whatever `sys.stderr` is at the time (as logging's last resort does), so a
    handler made once per process survives a test runner swapping the stream."""

    def __init__(self) -> None:
        logging.Handler.__init__(self)

    @property
    def stream(self):
        return sys.stderr


def install_request_id_records(current_id: Callable[[], str | None]) -> None:
    """Every log record gets `request_id` (the running request's, or "-"); once a process."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "adds_request_id", False):
        return

    def record_with_request_id(*args, **kwargs) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        record.request_id = current_id() or NO_REQUEST
        return record

    record_with_request_id.adds_request_id = True
    logging.setLogRecordFactory(record_with_request_id)
