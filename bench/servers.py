"""The servers a served figure measures: gunicorn (the site, or the hello-world reference)
and nginx (the static-file reference), each on a free loopback port, always stopped.

Both gunicorns run exactly as production does (deploy/gunicorn.conf.py) with `--workers 2`
and sync workers (`--threads 1`), so the site and its reference differ only in the app.
nginx runs Debian's binary with a prefix and config of its own in a temporary folder,
WORKERS worker processes: the same number of processes as gunicorn's workers.
"""

import re
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.live_server import GUNICORN, PROJECT_ROOT, server_env, stop

WORKERS = 2
NGINX = Path("/usr/sbin/nginx")
LISTENING = re.compile(r"Listening at: http://127\.0\.0\.1:(\d+)")


@dataclass
class Server:
    base_url: str
    pid: int  # gunicorn's master, or nginx's


def status_of(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


def wait_for(url_of, process: subprocess.Popen, log: Path, timeout: float = 30) -> str:
    """Poll until `url_of()` (None while unknown) answers 200; the base URL."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{log.read_text()}")
        url = url_of()
        if url and status_of(url) == 200:
            return url
        time.sleep(0.1)
    raise TimeoutError(f"server did not answer within {timeout} s:\n{log.read_text()}")


@contextmanager
def gunicorn(target: str, settings: dict[str, str], ready_path: str = "/healthz"
             ) -> Iterator[Server]:  # fmt: skip
    """`gunicorn target` with `settings` in its environment, as production runs it."""
    command = [
        str(GUNICORN), target,
        "--config", str(PROJECT_ROOT / "deploy" / "gunicorn.conf.py"),
        "--bind", "127.0.0.1:0", "--workers", str(WORKERS), "--threads", "1",
        "--worker-class", "sync", "--timeout", "30", "--graceful-timeout", "5",
    ]  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="bench-gunicorn-") as folder:
        log = Path(folder) / "gunicorn.log"
        with log.open("wb") as log_file:
            process = subprocess.Popen(
                command, cwd=PROJECT_ROOT, env=server_env(settings), stdin=subprocess.DEVNULL,
                stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip

        def base_url() -> str | None:
            found = LISTENING.search(log.read_text(errors="replace"))
            return f"http://127.0.0.1:{found.group(1)}" if found else None

        try:
            wait_for(lambda: base_url() and base_url() + ready_path, process, log)
            yield Server(base_url(), process.pid)
        finally:
            stop(process)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


NGINX_CONF = """
worker_processes {workers};
error_log {root}/error.log warn;
pid {root}/nginx.pid;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    default_type text/html;
    keepalive_timeout 0;  # Connection: close from the server side, as gunicorn's sync workers
    server {{
        listen 127.0.0.1:{port};
        root {root}/www;
        location / {{ try_files $uri =404; }}
    }}
}}
"""


@contextmanager
def nginx(path: str, body: bytes) -> Iterator[Server]:
    """nginx serving `body` at `path` as a static file (text/html)."""
    with tempfile.TemporaryDirectory(prefix="bench-nginx-") as folder:
        root = Path(folder)
        page = root / "www" / path.lstrip("/")
        page.parent.mkdir(parents=True)
        page.write_bytes(body)
        # Run as root, nginx's workers drop to an unprivileged user: let them read the page.
        for readable in (root, *page.relative_to(root).parents, page):
            (root / readable).chmod(0o755 if (root / readable).is_dir() else 0o644)
        (root / "logs").mkdir()
        port = free_port()
        conf = root / "nginx.conf"
        conf.write_text(NGINX_CONF.format(workers=WORKERS, root=root, port=port))
        log = root / "error.log"
        log.touch()
        process = subprocess.Popen(
            [str(NGINX), "-p", str(root), "-c", str(conf), "-g", "daemon off;"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log.open("wb"),
            start_new_session=True,
        )  # fmt: skip
        try:
            base = f"http://127.0.0.1:{port}"
            wait_for(lambda: base + path, process, log)
            yield Server(base, process.pid)
        finally:
            stop(process)
