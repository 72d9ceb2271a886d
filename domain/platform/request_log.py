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

`RequestLines` writes the same line for the pages answered before Flask (fast_pages.py),
where formatting a record per request would cost more than the rest of the answer.
"""

import json
import logging
import re
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from domain.platform.log_redaction import redact

SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
PATH_LIMIT = 256  # enough for every page of the site; a 10 KB path is not worth a log line
NO_REQUEST = "-"
REQUEST_LOG = logging.getLogger("app.requests")


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


def log_request(request_id: str, endpoint: str, path: str, code: int, size: int | None,
                seconds: float) -> None:  # fmt: skip
    """The request line Flask's path writes (observability.py), through the same handlers,
    for a GET answered before Flask (fast_pages.py)."""
    record = logging.LogRecord(REQUEST_LOG.name, logging.INFO, __file__, 0, "request", None, None)
    record.request_id = request_id
    record.fields = request_fields(
        request_id=request_id,
        method="GET",
        endpoint=endpoint,
        path=path,
        status=code,
        seconds=seconds,
        response_bytes=size,
    )
    REQUEST_LOG.handle(record)


class RequestLines:
    """The request line of a kept page, the JSON formatter's own output with three blanks
    filled in (time, request id, duration) instead of a record formatted per request: the
    line costs more than the rest of a fast answer. The template is made by that formatter,
    so it follows any change to it. Used only while the request log is what
    observability.py sets up (one JSON handler on stderr); otherwise `log_request`."""

    REQUEST_ID = "requestidblank"
    SECONDS = 98765.4321  # written as "duration_ms":98765432.1

    def __init__(self) -> None:
        self.templates: dict[tuple, tuple[str, str, str]] = {}
        self.second: tuple[int, str] = (-1, "")

    def write(self, request_id: str, endpoint: str, path: str, code: int, size: int | None,
              seconds: float) -> None:  # fmt: skip
        handler = plain_request_log_handler()
        key = (endpoint, path, code, size)
        if handler is not None and key not in self.templates:
            self.templates[key] = self.template(handler, *key)
        template = self.templates.get(key) if handler is not None else None
        if template is None:
            log_request(request_id, endpoint, path, code, size, seconds)
            return
        before_id, before_duration, tail = template
        line = "".join(
            (
                '{"time":"',
                self.timestamp(),
                before_id,
                request_id,
                before_duration,
                repr(round(seconds * 1000, 1)),
                tail,
                handler.terminator,
            )
        )
        handler.acquire()
        try:
            handler.stream.write(line)
            handler.stream.flush()
            return
        except Exception:  # logging's own error handling decides, as for any other line
            pass
        finally:
            handler.release()
        log_request(request_id, endpoint, path, code, size, seconds)

    def template(self, handler, endpoint: str, path: str, code: int, size: int | None):
        """(before the id, before the duration, the rest), or None when the formatter's
        line does not start with its time or lacks a blank: then every line is formatted."""
        record = logging.LogRecord(REQUEST_LOG.name, logging.INFO, "", 0, "request", None, None)
        record.fields = request_fields(
            request_id=self.REQUEST_ID,
            method="GET",
            endpoint=endpoint,
            path=path,
            status=code,
            seconds=self.SECONDS,
            response_bytes=size,
        )
        line = handler.format(record)
        duration = repr(round(self.SECONDS * 1000, 1))
        usable = (
            line.startswith('{"time":"')
            and line.count(self.REQUEST_ID) == 1
            and line.count(duration) == 1
        )
        if not usable:
            return None
        after_time = line[line.index('",') :]
        before_id, rest = after_time.split(self.REQUEST_ID)
        before_duration, tail = rest.split(duration)
        return before_id, before_duration, tail

    def timestamp(self) -> str:
        """As the formatter writes it: UTC, to the millisecond, made once a second. The
        second and its text are one tuple, so gunicorn's threads never mix two seconds."""
        now = time.time()
        second = int(now)
        kept, stamp = self.second
        if kept != second:
            stamp = datetime.fromtimestamp(second, UTC).isoformat(timespec="seconds")[:-6]
            self.second = (second, stamp)  # without "+00:00", added below
        return f"{stamp}.{int((now - second) * 1000):03d}+00:00"


def plain_request_log_handler() -> StderrHandler | None:
    """The request log's only handler, when it is observability.py's JSON one on stderr."""
    handlers = REQUEST_LOG.handlers
    if len(handlers) != 1 or REQUEST_LOG.filters or REQUEST_LOG.propagate:
        return None
    handler = handlers[0]
    plain = (
        type(handler) is StderrHandler
        and type(handler.formatter) is JsonLineFormatter
        and not handler.filters
        and handler.level <= logging.INFO
    )
    return handler if plain else None
