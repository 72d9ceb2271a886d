"""Prometheus metrics: what the app counts, who may read them, and the page a scrape gets.

Under gunicorn every worker counts in its own files in PROMETHEUS_MULTIPROC_DIR
(prometheus-client's multiprocess mode, chosen when that variable is set before
prometheus_client is first imported; deploy/gunicorn_metrics.py sets it, empties it at
start and cleans up after dead workers). A scrape, answered by any one worker, adds every
worker's files up, a dead worker's counts included, so a counter never goes down. Without
the variable (the development server, the tests) the process counts in memory.

Every label is bounded, so no visitor can make new series: the Flask endpoint (never the
path: a manage link's path is its token), a known method or "other", the status class, an
article the library has or "none", a configured limit, a fixed login-failure reason.

The outbox and database gauges are not counted: they are read from the database when a
scrape asks (`DatabaseGauges`), so any worker gives the same answer and nothing is paid
between scrapes.
"""

import hmac
import ipaddress
import os
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

from domain.platform.request_log import method_label

if TYPE_CHECKING:  # models import extensions, which import this module
    from domain.mail.outbox_health import OutboxHealth

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def multiprocess_directory() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or None


def status_class(status: int) -> str:
    return f"{status // 100}xx"


class AppMetrics:
    """The app's own metrics, counted where they happen; one set per app (and process)."""

    def __init__(self, registry: CollectorRegistry | None):
        # In multiprocess mode the values live in files, not in a registry.
        self.registry = registry
        self.request_seconds = Histogram(
            "http_request_duration_seconds",
            "Time to answer a request, by Flask endpoint, method and status class.",
            ["endpoint", "method", "status"],
            registry=registry,
        )
        self.bookings = Counter(
            "bookings_made", "Calls booked, by the article the booking came from.", ["source"],
            registry=registry,
        )  # fmt: skip
        self.rate_limit_refusals = Counter(
            "rate_limit_refusals", "Requests refused by a rate limit, by limit and endpoint.",
            ["limit", "endpoint"], registry=registry,
        )  # fmt: skip
        self.login_failures = Counter(
            "owner_login_failures", "Failed owner login steps, by reason.", ["reason"],
            registry=registry,
        )  # fmt: skip
        self.processes: Gauge | None = None  # made at the first request (_mark_process)
        self._marked_pid: int | None = None
        self._lock = threading.Lock()
        # Labelled children by labels: `labels()` takes a lock and builds a key per call,
        # a visible part of a page served from the cache. Few label sets (endpoints).
        self._request_series: dict[tuple[str, str, str], object] = {}

    @classmethod
    def for_this_process(cls) -> "AppMetrics":
        return cls(None if multiprocess_directory() else CollectorRegistry())

    def observe_request(
        self, endpoint: str | None, method: str, status: int, seconds: float
    ) -> None:
        self._mark_process()
        labels = (endpoint or "none", method_label(method), status_class(status))
        series = self._request_series.get(labels)
        if series is None:
            series = self._request_series[labels] = self.request_seconds.labels(*labels)
        series.observe(seconds)

    def count_booking(self, source_article: str | None) -> None:
        self.bookings.labels(source_article or "none").inc()

    def count_rate_limit_refusal(self, limit: str, endpoint: str | None) -> None:
        self.rate_limit_refusals.labels(limit, endpoint or "none").inc()

    def count_login_failure(self, reason: str) -> None:
        self.login_failures.labels(reason).inc()

    def _mark_process(self) -> None:
        # At the first request of each process, not when the app is made: a worker forked
        # from a preloading master must count itself, not the master; and a command (a
        # migration, the outbox worker) never writes a file, nor needs the directory.
        pid = os.getpid()
        if self._marked_pid == pid:
            return
        with self._lock:  # two threads' first requests must not both make the gauge
            if self.processes is None:
                self.processes = Gauge(
                    "app_worker_processes", "Processes serving requests (live ones only).",
                    registry=self.registry, multiprocess_mode="livesum",
                )  # fmt: skip
            self.processes.set(1)
            self._marked_pid = pid


class DatabaseGauges:
    """Collector for what a scrape reads from the database: whether it answered, and the
    outbox's figures (left out, not made up, when it did not)."""

    def __init__(self, outbox: "OutboxHealth | None"):
        self.outbox = outbox

    def collect(self) -> Iterable[Metric]:
        up = GaugeMetricFamily("database_up", "1 if this scrape could read the database, else 0.")
        up.add_metric([], 0 if self.outbox is None else 1)
        yield up
        if self.outbox is None:
            return
        figures = (
            ("outbox_waiting_messages", "Emails waiting to go out (pending, being sent, or a "
             "booking's not written yet), due or scheduled.", self.outbox.waiting),
            ("outbox_failed_messages", "Emails that failed for good, waiting for the owner.",
             self.outbox.failed),
            ("outbox_oldest_due_age_seconds", "How long the longest-waiting due email has "
             "been due; 0 when none is.", self.outbox.oldest_due_seconds),
        )  # fmt: skip
        for name, documentation, value in figures:
            yield GaugeMetricFamily(name, documentation, value=value)


class _Everything:
    """A registry's metrics as one collector of another registry."""

    def __init__(self, registry: CollectorRegistry):
        self.registry = registry

    def collect(self) -> Iterable[Metric]:
        return self.registry.collect()


def exposition(metrics: AppMetrics, extra: Iterable, accept: str | None) -> tuple[bytes, str]:
    """The scrape's body and content type: every process's metrics, then `extra`
    collectors; the format the scraper's Accept header asks for (OpenMetrics or text)."""
    registry = CollectorRegistry()
    directory = multiprocess_directory()
    if directory:
        MultiProcessCollector(registry, path=directory)
    else:
        registry.register(_Everything(metrics.registry))
    for collector in extra:
        registry.register(collector)
    encoder, content_type = choose_encoder(accept or "")
    return encoder(registry), content_type


def is_loopback(address: str | None) -> bool:
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)  # ::ffff:127.0.0.1 from a dual-stack socket
    return ip.is_loopback or bool(mapped and mapped.is_loopback)


def may_scrape(remote_address: str | None, authorization: str | None, token: str) -> bool:
    """Loopback clients may; others only with `Authorization: Bearer <token>`, compared in
    constant time. No token set: loopback only."""
    if token and authorization:
        scheme, _, given = authorization.partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(
            given.strip().encode(), token.encode()
        ):
            return True
    return is_loopback(remote_address)
