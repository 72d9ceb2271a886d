"""A real CalDAV server for the tests: Radicale on loopback, in a subprocess of its own.

`radicale_server` starts once per run (a free port, plain htpasswd, storage in a temporary
folder, its own config file) and is stopped at the end; a test may stop it to make an
outage and start it again on the same port. `caldav_calendar` gives each test a calendar
of its own with a fresh name, and `caldav_settings` the app settings that point at it.
"""

import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import caldav
import pytest

USERNAME = "owner"
PASSWORD = "radicale-test-password-9Zq"
START_WITHIN_SECONDS = 30


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def port_open(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class RadicaleServer:
    folder: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def write_config(self) -> Path:
        users = self.folder / "users"
        users.write_text(f"{USERNAME}:{PASSWORD}\n")
        config = self.folder / "config"
        config.write_text(
            f"[server]\nhosts = 127.0.0.1:{self.port}\n"
            f"[auth]\ntype = htpasswd\nhtpasswd_filename = {users}\n"
            "htpasswd_encryption = plain\n"
            f"[storage]\nfilesystem_folder = {self.folder / 'collections'}\n"
            "[rights]\ntype = owner_only\n[web]\ntype = none\n[logging]\nlevel = warning\n"
        )
        return config

    def start(self) -> None:
        config = self.write_config()
        log = (self.folder / "radicale.log").open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "radicale", "--config", str(config)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + START_WITHIN_SECONDS
        while not port_open(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError((self.folder / "radicale.log").read_text()[-2000:])
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def client(self) -> caldav.DAVClient:
        return caldav.DAVClient(
            url=self.url, username=USERNAME, password=PASSWORD, auth_type="basic", timeout=10
        )


@pytest.fixture(scope="session")
def radicale_server(tmp_path_factory):
    server = RadicaleServer(tmp_path_factory.mktemp("radicale"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def radicale(radicale_server):
    """The server, started again after the test if the test stopped it."""
    yield radicale_server
    if radicale_server.process is None:
        radicale_server.start()


@pytest.fixture
def caldav_calendar(radicale):
    """A fresh, empty calendar on the server; yields the caldav library's Calendar."""
    name = f"Work {uuid.uuid4().hex[:8]}"
    with radicale.client() as client:
        calendar = client.principal().make_calendar(name=name)
        yield calendar
        if radicale.process is not None:
            calendar.delete()


@pytest.fixture
def caldav_settings(radicale, caldav_calendar) -> dict:
    return {
        "CALDAV_URL": radicale.url,
        "CALDAV_USERNAME": USERNAME,
        "CALDAV_PASSWORD": PASSWORD,
        "CALDAV_CALENDAR": caldav_calendar.get_display_name(),
        "CALDAV_TIMEOUT": 5,
    }
