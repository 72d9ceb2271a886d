"""Real outages for tests: a service the app talks to stops answering, then comes back.

`TcpProxy` sits on loopback in front of a TCP service (PostgreSQL, Redis). `cut()` closes
every live connection and answers each new one by hanging up at once, as a server that
went away does; `restore()` lets connections through again. Its port never changes, so
the app keeps its settings through the outage.

`database_outage` puts the test app's database behind such a link: on PostgreSQL the
proxy; on SQLite (a file, no server) `cut()` moves the file away and leaves a directory in
its place, so opening it fails as an unreachable database does, and the app gets a pool
that opens a fresh connection each time (no open file to keep using). Ask for
`database_outage` in a test and the `app` fixture is built behind it:

    def test_something(client, database_outage):
        database_outage.cut()
        assert client.get("/book").status_code == 503
        database_outage.restore()

`redis_link` is the test Redis (127.0.0.1:6379) behind a proxy, at a database number this
run has claimed for itself (`SET … NX` on a claim key in 1..15, released at the end), since
other runs share that server at the same time; it is emptied before each test.
"""

import os
import shutil
import socket
import threading
from contextlib import suppress
from pathlib import Path

import pytest
import redis
from sqlalchemy import make_url
from sqlalchemy.pool import NullPool

LOOPBACK = "127.0.0.1"
REDIS_PORT = 6379
CLAIM_KEY = "test-run-claim"
CLAIM_SECONDS = 4 * 3600  # a run that died frees its database after this


class TcpProxy:
    """Loopback TCP relay to (host, port) that a test can cut and restore."""

    def __init__(self, host: str, port: int):
        self.target = (host, port)
        self._listener = socket.create_server((LOOPBACK, 0))
        self.port = self._listener.getsockname()[1]
        self._cut = threading.Event()
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        threading.Thread(target=self._accept_loop, daemon=True).start()

    def cut(self) -> None:
        self._cut.set()
        self._close_open_connections()

    def restore(self) -> None:
        self._cut.clear()

    def close(self) -> None:
        self._closed.set()
        self.cut()
        self._listener.close()

    def _accept_loop(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:  # the listener was closed
                return
            if self._cut.is_set():
                hang_up(client)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                hang_up(client)
                continue
            upstream.settimeout(None)
            with self._lock:
                self._open.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                self._forget(end)

    def _close_open_connections(self) -> None:
        with self._lock:
            ends, self._open = list(self._open), set()
        for end in ends:
            hang_up(end)

    def _forget(self, end: socket.socket) -> None:
        with self._lock:
            self._open.discard(end)
        hang_up(end)


def hang_up(end: socket.socket) -> None:
    with suppress(OSError):
        end.shutdown(socket.SHUT_RDWR)  # wakes a thread blocked in recv on it
    end.close()


class DatabaseOutage:
    """The test database behind a link `cut()` breaks and `restore()` mends."""

    def __init__(self, database_url: str):
        url = make_url(database_url)
        self._proxy: TcpProxy | None = None
        self._file: Path | None = None
        if url.get_backend_name() == "postgresql":
            self._proxy = TcpProxy(url.host or LOOPBACK, url.port or 5432)
            url = url.set(host=LOOPBACK, port=self._proxy.port)
            engine_options = {"pool_pre_ping": True}
        else:
            self._file = Path(url.database)
            engine_options = {"pool_pre_ping": True, "poolclass": NullPool}
        self.url = url.render_as_string(hide_password=False)
        self.settings = {
            "DATABASE_URL": self.url,
            "SQLALCHEMY_DATABASE_URI": self.url,
            "SQLALCHEMY_ENGINE_OPTIONS": engine_options,
        }

    @property
    def _away(self) -> Path:
        return self._file.with_name(self._file.name + ".away")

    def cut(self) -> None:
        if self._proxy:
            self._proxy.cut()
        elif not self._away.exists():
            self._file.rename(self._away)
            self._file.mkdir()  # opening a directory as a database fails

    def restore(self) -> None:
        if self._proxy:
            self._proxy.restore()
        elif self._away.exists():
            shutil.rmtree(self._file)
            self._away.rename(self._file)

    def close(self) -> None:
        self.restore()
        if self._proxy:
            self._proxy.close()


@pytest.fixture
def database_outage(database_url):
    outage = DatabaseOutage(database_url)
    yield outage
    outage.close()


def claim_redis_database(client_for) -> tuple[int, str]:
    """(database number, claim) for a database in 1..15 no other run holds; emptied."""
    claim = f"pid {os.getpid()} on {socket.gethostname()}"
    for number in range(1, 16):
        client = client_for(number)
        if client.set(CLAIM_KEY, claim, nx=True, ex=CLAIM_SECONDS):
            client.flushdb()
            client.set(CLAIM_KEY, claim, ex=CLAIM_SECONDS)
            return number, claim
    raise RuntimeError("every Redis database 1..15 is claimed by another test run")


@pytest.fixture(scope="session")
def redis_database() -> int:
    """A Redis database number of this run's own; the tests are skipped without Redis
    (failed in CI, where `make test` must run everything)."""

    def client_for(number: int) -> redis.Redis:
        return redis.Redis(host=LOOPBACK, port=REDIS_PORT, db=number, socket_timeout=5)

    try:
        client_for(0).ping()
    except redis.RedisError as error:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(f"Redis is not reachable on {LOOPBACK}:{REDIS_PORT}: {error}")
    number, claim = claim_redis_database(client_for)
    yield number
    client = client_for(number)
    if client.get(CLAIM_KEY) == claim.encode():
        client.flushdb()  # the claim key goes with it


class RedisLink:
    def __init__(self, proxy: TcpProxy, database: int):
        self.proxy = proxy
        self.url = f"redis://{LOOPBACK}:{proxy.port}/{database}"

    def cut(self) -> None:
        self.proxy.cut()

    def restore(self) -> None:
        self.proxy.restore()


@pytest.fixture
def redis_link(redis_database):
    """The run's Redis database, empty but for the claim, behind a link a test can cut."""
    client = redis.Redis(host=LOOPBACK, port=REDIS_PORT, db=redis_database)
    for key in client.scan_iter():
        if key != CLAIM_KEY.encode():
            client.delete(key)
    proxy = TcpProxy(LOOPBACK, REDIS_PORT)
    yield RedisLink(proxy, redis_database)
    proxy.close()
