"""A real gunicorn serving `app:app` on loopback, and a cookie-keeping client for it.

For tests and benchmarks that need several processes.

The server binds port 0 so the OS picks a free port (no race between choosing a port and
binding it); the port is read back from gunicorn's "Listening at:" line. Its stdout and
stderr (access log, error log, tracebacks) go to one file the caller names, so a failing
test can show what the workers said. Every wait is bounded, and the server is always
stopped: SIGTERM first, SIGKILL to its own process group only if it does not stop.
"""

import html
import http.cookiejar
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
GUNICORN = Path(sys.executable).parent / "gunicorn"
LISTENING = re.compile(r"Listening at: http://127\.0\.0\.1:(\d+)")
# Variables of the developer's shell that would point the server somewhere else.
UNWANTED_ENV = (
    "APP_ENV", "DATABASE_URL", "TEST_DATABASE_URL", "REDIS_URL", "SMTP_HOST", "CONTENT_DIR",
    "PROXY_COUNT", "METRICS_TOKEN", "PROMETHEUS_MULTIPROC_DIR", "PROMETHEUS_MULTIPROC_DIR_MADE_BY",
)  # fmt: skip


@dataclass
class LiveServer:
    base_url: str
    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def server_env(settings: dict[str, str]) -> dict[str, str]:
    """The current environment minus anything that redirects the app, plus `settings`."""
    env = {key: value for key, value in os.environ.items() if key not in UNWANTED_ENV}
    # Development settings: production insists on Secure cookies, which plain HTTP drops.
    return {"APP_ENV": "development", "PYTHONUNBUFFERED": "1", **env, **settings}


@contextmanager
def running_gunicorn(
    settings: dict[str, str],
    log_path: Path,
    *,
    workers: int = 4,
    threads: int = 2,
    start_timeout: float = 30.0,
) -> Iterator[LiveServer]:
    """gunicorn with `settings` in its environment, answering /healthz; stopped on exit."""
    command = [
        str(GUNICORN), "app:app",
        "--config", str(PROJECT_ROOT / "deploy" / "gunicorn.conf.py"),  # what production runs
        "--bind", "127.0.0.1:0",
        "--workers", str(workers),
        "--threads", str(threads),
        "--timeout", "30",
        "--graceful-timeout", "5",
        "--access-logfile", "-",
        "--error-logfile", "-",
    ]  # fmt: skip
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            command,
            cwd=PROJECT_ROOT,
            env=server_env(settings),
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so stop() reaches the workers
        )
    server = LiveServer(base_url="", process=process, log_path=log_path)
    try:
        server.base_url = wait_until_healthy(server, start_timeout)
        yield server
    finally:
        stop(process)


def wait_until_healthy(server: LiveServer, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    base_url = ""
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"gunicorn exited with {server.process.returncode} before answering:\n"
                + server.log()
            )
        if not base_url:
            found = LISTENING.search(server.log())
            base_url = f"http://127.0.0.1:{found.group(1)}" if found else ""
        if base_url and healthz_status(base_url) == 200:
            return base_url
        time.sleep(0.1)
    raise TimeoutError(f"gunicorn did not answer /healthz within {timeout} s:\n" + server.log())


def healthz_status(base_url: str) -> int | None:
    try:
        with urllib.request.urlopen(base_url + "/healthz", timeout=2) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


def stop(process: subprocess.Popen, timeout: float = 10.0) -> None:
    """SIGTERM (gunicorn stops its workers, then itself); SIGKILL to its group if it hangs."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        # The master is still alive, so its process group (start_new_session) is ours.
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=timeout)


HIDDEN_FIELDS = ("slot", "timezone", "rendered", "submission_key", "csrf_token")


@dataclass
class Reply:
    status: int
    body: str
    headers: dict[str, str] = field(default_factory=dict)


class _KeepRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # the 303 itself is the answer we want to see


class HttpVisitor:
    """One browser without JavaScript: its own cookie jar, redirects not followed."""

    def __init__(self, base_url: str, timeout: float = 20.0):
        self.base_url = base_url
        self.timeout = timeout
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), _KeepRedirects()
        )

    def get(self, path: str, params: dict | None = None) -> Reply:
        return self._send(urllib.request.Request(self._url(path, params)))

    def post(self, path: str, params: dict | None = None, data: dict | None = None) -> Reply:
        body = urllib.parse.urlencode(data or {}, doseq=True).encode()
        return self._send(urllib.request.Request(self._url(path, params), data=body))

    def _url(self, path: str, params: dict | None) -> str:
        query = urllib.parse.urlencode(params or {}, doseq=True)
        return self.base_url + path + (f"?{query}" if query else "")

    def _send(self, request: urllib.request.Request) -> Reply:
        try:
            with self.opener.open(request, timeout=self.timeout) as response:
                return Reply(response.status, response.read().decode(), dict(response.headers))
        except urllib.error.HTTPError as error:  # 3xx (not followed), 4xx and 5xx
            with error:
                return Reply(error.code, error.read().decode(errors="replace"), dict(error.headers))


def free_slots(picker_html: str) -> list[str]:
    """The UTC slot values the picker page links to, in page order."""
    found = re.findall(r"slot=([0-9T%A-Z:\-]+Z)", picker_html)
    return list(dict.fromkeys(urllib.parse.unquote(slot) for slot in found))


def input_value(page: str, name: str) -> str | None:
    tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', page)
    value = tag and re.search(r'value="([^"]*)"', tag.group(0))
    return html.unescape(value.group(1)) if value else None


def hidden_fields(details_html: str) -> dict[str, str]:
    """The hidden inputs of the details form that a POST must send back."""
    found = {name: input_value(details_html, name) for name in HIDDEN_FIELDS}
    return {name: value for name, value in found.items() if value is not None}
