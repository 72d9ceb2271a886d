"""Watching the app at work: each request's id and its JSON log line.

`register_request_observation` gives every request an id (`g.request_id`, echoed in the
`X-Request-ID` response header; app.py's `register_logging` puts it on every log record
the request writes), and when the request is answered, writes one JSON line on the
"app.requests" logger (at INFO, whatever LOG_LEVEL says of the other logs).
Both are in-process work, a regex and a logger call: no page gains a database query or a
Redis round trip from them.
"""

import logging
import time

from flask import Flask, g, has_request_context, request

from domain.request_log import (
    JsonLineFormatter,
    StderrHandler,
    request_fields,
    request_id_from,
)

REQUEST_LOG = logging.getLogger("app.requests")
REQUEST_ID_HEADER = "X-Request-ID"


def current_request_id() -> str | None:
    return g.get("request_id") if has_request_context() else None


def register_request_observation(app: Flask) -> None:
    send_request_lines_to_stderr()

    def start_observing():
        g.request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER))
        g.request_started = time.perf_counter()

    # First of all, so that the limiter's and CSRF's refusals have an id and a duration.
    app.before_request_funcs.setdefault(None, []).insert(0, start_observing)

    @app.after_request
    def observe_request(response):
        request_id = g.get("request_id") or request_id_from(None)
        seconds = time.perf_counter() - g.get("request_started", time.perf_counter())
        fields = request_fields(
            request_id=request_id,
            method=request.method,
            endpoint=request.endpoint,
            path=request.path,
            status=response.status_code,
            seconds=seconds,
            response_bytes=response.content_length,
        )
        REQUEST_LOG.info("request", extra={"fields": fields})
        response.headers[REQUEST_ID_HEADER] = request_id
        return response


def send_request_lines_to_stderr() -> None:
    """Request lines are JSON on stderr, beside the other logs but not formatted like them
    (so not passed on to the root logger's handlers). Once a process."""
    if any(isinstance(handler, StderrHandler) for handler in REQUEST_LOG.handlers):
        return
    handler = StderrHandler()
    handler.setFormatter(JsonLineFormatter())
    REQUEST_LOG.addHandler(handler)
    REQUEST_LOG.setLevel(logging.INFO)
    REQUEST_LOG.propagate = False
