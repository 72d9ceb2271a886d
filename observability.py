"""Watching the app at work: each request's id, its JSON log line, and the metrics.

`register_request_observation` gives every request an id (`g.request_id`, echoed in the
`X-Request-ID` response header; app.py's `register_logging` puts it on every log record
the request writes), and when the request is answered, writes one JSON line on the
"app.requests" logger (at INFO, whatever LOG_LEVEL says of the other logs) and observes
its latency.
Both are in-process work, a regex, a logger call and a histogram update: no page gains a
database query or a Redis round trip from them.

`Metrics` is the Flask extension the blueprints count through (`metrics.count_booking`…);
the metrics themselves and the scrape are in domain/platform/metrics.py.
"""

import logging
import time
from typing import TYPE_CHECKING

from flask import Flask, current_app, g, has_request_context, request

from domain.platform.metrics import AppMetrics, DatabaseGauges, exposition
from domain.platform.request_log import (
    JsonLineFormatter,
    StderrHandler,
    request_fields,
    request_id_from,
)

if TYPE_CHECKING:  # models import extensions, which import this module
    from domain.mail.outbox_health import OutboxHealth

REQUEST_LOG = logging.getLogger("app.requests")
REQUEST_ID_HEADER = "X-Request-ID"


class Metrics:
    """Flask extension: `metrics.count_booking(slug)` and the like, on the current app's
    metrics; `exposition` for the /metrics page."""

    def init_app(self, app: Flask) -> None:
        app.extensions["metrics"] = AppMetrics.for_this_process()

    @staticmethod
    def current() -> AppMetrics:
        return current_app.extensions["metrics"]

    def count_booking(self, source_article: str | None) -> None:
        self.current().count_booking(source_article)

    def count_login_failure(self, reason: str) -> None:
        self.current().count_login_failure(reason)

    def count_rate_limit_refusal(self, request_limit) -> None:
        """flask-limiter's `on_breach` callback: one count per limit a request broke."""
        self.current().count_rate_limit_refusal(str(request_limit.limit), request.endpoint)

    def exposition(self, outbox: "OutboxHealth | None", accept: str | None) -> tuple[bytes, str]:
        return exposition(self.current(), [DatabaseGauges(outbox)], accept)


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
        app.extensions["metrics"].observe_request(
            request.endpoint, request.method, response.status_code, seconds
        )
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
