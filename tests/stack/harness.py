"""`make stack`'s script, started for tests and benchmarks, and stopped without leftovers.

`running_stack` runs scripts/stack (what `make stack` runs) with free ports, a folder and
a PostgreSQL database of its own, and the settings it is given; everything else is the
stack's production defaults. It waits until nginx, both app servers and both workers are
up, and on the way out stops the stack as a person would (SIGTERM, or SIGINT to its
process group: Ctrl-C) and checks that no process of it is left.

The stack runs in a session of its own, so "nothing left running" is exact: no process
of that session remains.
"""

import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]
VENV = Path(sys.executable).parent.parent
SUPERVISORCTL = Path(sys.executable).parent / "supervisorctl"
PROGRAMS = ("nginx", "web1", "web2", "worker1", "worker2")
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@dataclass
class Stack:
    root: Path
    process: subprocess.Popen
    output_path: Path
    http_port: int
    https_port: int
    app_ports: tuple[int, int]
    database_url: str
    environment: dict[str, str]

    @property
    def base_url(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def certificate(self) -> Path:
        return self.root / "tls" / "cert.pem"

    @property
    def access_log(self) -> Path:
        return self.root / "nginx" / "logs" / "intelligence-library.access.log"

    @property
    def error_log(self) -> Path:
        return self.root / "nginx" / "logs" / "intelligence-library.error.log"

    def output(self) -> str:
        return self.output_path.read_text(errors="replace")

    def tls_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.certificate))

    def supervisorctl(self, *args: str, timeout: float = 60) -> str:
        done = subprocess.run(
            [str(SUPERVISORCTL), "-c", str(self.root / "supervisord.conf"), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        return done.stdout + done.stderr

    def run(self, *command: str, **settings: str) -> subprocess.CompletedProcess:
        """One command with the stack's settings (`scripts/stack exec`), as an operator."""
        return subprocess.run(
            ["bash", str(PROJECT / "scripts" / "stack"), "exec", *command],
            cwd=PROJECT,
            env={**self.environment, **settings},
            capture_output=True,
            text=True,
            timeout=120,
        )

    def statuses(self) -> dict[str, str]:
        found = re.findall(r"^(\S+)\s+(\S+)", self.supervisorctl("status"), re.MULTILINE)
        return dict(found)


def free_ports(count: int) -> list[int]:
    """Ports free now (the OS picks them); the stack refuses to start on a taken one."""
    probes = []
    try:
        for _ in range(count):
            probe = socket.socket()
            probe.bind(("127.0.0.1", 0))
            probes.append(probe)
        return [probe.getsockname()[1] for probe in probes]
    finally:
        for probe in probes:
            probe.close()


def postgres_server_url() -> str:
    """The PostgreSQL server of the test run (TEST_DATABASE_URL when it names one)."""
    url = os.environ.get("TEST_DATABASE_URL", "")
    return url if url.startswith("postgresql") else DEFAULT_POSTGRES


def database_url_named(name: str) -> str:
    from sqlalchemy import make_url

    url = make_url(postgres_server_url()).set(database=name, query={})
    return url.render_as_string(hide_password=False)


def create_database(url: str) -> None:
    import psycopg
    from psycopg import sql
    from sqlalchemy import make_url

    target = make_url(url)
    admin = target.set(drivername="postgresql", database="postgres")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as db:
        db.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(target.database)))


def drop_database(url: str) -> None:
    import psycopg
    from psycopg import sql
    from sqlalchemy import make_url

    target = make_url(url)
    admin = target.set(drivername="postgresql", database="postgres")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as db:
        db.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(target.database)
            )
        )


def stack_environment(root: Path, ports: list[int], settings: dict[str, str]) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SMTP_", "STACK_")) and key not in ("DATABASE_URL", "REDIS_URL")
    }
    return {
        **env,
        "VENV": str(VENV),
        "STACK_DIR": str(root),
        "STACK_HTTP_PORT": str(ports[0]),
        "STACK_HTTPS_PORT": str(ports[1]),
        "STACK_APP_PORTS": f"{ports[2]},{ports[3]}",
        **settings,
    }


@contextmanager
def running_stack(
    settings: dict[str, str],
    *,
    root: Path | None = None,
    stop_with: signal.Signals = signal.SIGTERM,
    start_timeout: float = 90,
) -> Iterator[Stack]:
    """scripts/stack with `settings` (DATABASE_URL required); stopped and checked on exit."""
    root = root or Path(tempfile.mkdtemp(prefix="stack-"))
    root.chmod(0o755)  # nginx's workers reach their temporary folders in it
    ports = free_ports(4)
    output_path = root / "stack.out"
    environment = stack_environment(root, ports, settings)
    with output_path.open("ab") as output:  # appended to by every process
        process = subprocess.Popen(
            ["bash", str(PROJECT / "scripts" / "stack")],
            cwd=PROJECT,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own session: what is left of it can be found
        )
    stack = Stack(
        root, process, output_path, ports[0], ports[1], (ports[2], ports[3]),
        settings["DATABASE_URL"], environment,
    )  # fmt: skip
    try:
        wait_until_up(stack, start_timeout)
        yield stack
    finally:
        stop(stack, stop_with)


def wait_until_up(stack: Stack, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if stack.process.poll() is not None:
            raise RuntimeError(
                f"the stack exited with {stack.process.returncode}:\n{stack.output()}"
            )
        if stack.certificate.exists() and all_up(stack):
            return
        time.sleep(0.5)
    raise TimeoutError(f"the stack was not up within {timeout} s:\n{stack.output()}")


def all_up(stack: Stack) -> bool:
    """Both app servers, then nginx, answer /healthz (asking nginx before the app servers
    listen would only teach it they are down), then supervisord says all five run (asked
    last: each question starts a supervisorctl)."""
    urls = [f"http://127.0.0.1:{port}/healthz" for port in stack.app_ports]
    urls += [f"{stack.base_url}/healthz"]
    if not all(status_of(url, stack) == 200 for url in urls):
        return False
    statuses = stack.statuses()
    return all(statuses.get(name) == "RUNNING" for name in PROGRAMS)


def status_of(url: str, stack: Stack) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=5, context=stack.tls_context()) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


def stop(stack: Stack, how: signal.Signals = signal.SIGTERM, timeout: float = 60) -> None:
    """Stop the stack as its user would, then make sure nothing of it runs any more."""
    if stack.process.poll() is None:
        if how == signal.SIGINT:
            os.killpg(stack.process.pid, signal.SIGINT)  # Ctrl-C: the terminal's group
        else:
            stack.process.send_signal(how)
        with suppress(subprocess.TimeoutExpired):
            stack.process.wait(timeout=timeout)
    left = processes_in_session(stack.process.pid)
    for pid in left:
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    with suppress(subprocess.TimeoutExpired):
        stack.process.wait(timeout=10)
    if left:
        raise AssertionError(
            f"still running after the stack stopped: {left}\n{stack.output()[-5000:]}"
        )


def processes_in_session(session: int) -> list[int]:
    """Every process whose session is `session` (field 6 of /proc/<pid>/stat)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue  # gone meanwhile
        state, session_id = fields[0], int(fields[3])
        if session_id == session and state != "Z":
            found.append(int(stat.parent.name))
    return found


def port_is_closed(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(2)
        return probe.connect_ex(("127.0.0.1", port)) != 0
