"""Metrics under real gunicorn with two workers (prometheus-client's multiprocess mode):
a scrape adds up every worker's counts, a killed worker's counts stay and its live gauge
goes (deploy/gunicorn_metrics.py's hooks), and each request is one JSON line."""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.multiprocess import MultiProcessCollector

from deploy import gunicorn_metrics
from tests.conftest import ARTICLE_SLUG
from tests.live_server import PROJECT_ROOT, running_gunicorn, server_env
from tests.test_metrics import value

ARTICLE = f"/library/{ARTICLE_SLUG}"
COUNT = "http_request_duration_seconds_count"
PATIENCE = 60.0  # seconds: a new worker boots, and the kernel hands it a connection


def get(base_url: str, path: str) -> str:
    with urllib.request.urlopen(base_url + path, timeout=10) as response:
        assert response.status == 200
        return response.read().decode()


def views_by_worker(directory: Path) -> dict[int, float]:
    """Each process's article views, from its own file (the health check that started the
    server was counted too, by one of them, under another endpoint)."""
    found = {int(path.stem.rpartition("_")[2]): path for path in directory.glob("histogram_*.db")}
    views = {pid: counted_in(path) for pid, path in found.items()}
    return {pid: count for pid, count in views.items() if count}


def article_views(text: str) -> float | None:
    return value(text, COUNT, endpoint="library.article", method="GET", status="2xx")


def read_until(base_url: str, directory: Path, done) -> int:
    """Read the article until `done(pids)`, the processes that served it (bounded); the
    number of reads."""
    deadline = time.monotonic() + PATIENCE
    sent = 0
    while time.monotonic() < deadline:
        get(base_url, ARTICLE)
        sent += 1
        if done(set(views_by_worker(directory))):
            return sent
        time.sleep(0.01)  # lets an idle worker be the one that wakes for the next one
    raise AssertionError(f"still {views_by_worker(directory)} after {sent} requests")


def counted_in(path: Path) -> float:
    (family,) = [f for f in MultiProcessCollector.merge([str(path)]) if f.name.startswith("http")]
    return sum(
        s.value for s in family.samples
        if s.name == COUNT and s.labels.get("endpoint") == "library.article"
    )  # fmt: skip


def test_two_workers_are_added_up_and_a_killed_workers_counts_stay(database_url, tmp_path):
    directory = tmp_path / "metrics"
    directory.mkdir()
    leftover = directory / "counter_4242.db"
    leftover.write_bytes(b"from an earlier run")
    settings = {
        "DATABASE_URL": database_url,
        "SECRET_KEY": "metrics-test-secret-0123456789abcdef",
        "PROMETHEUS_MULTIPROC_DIR": str(directory),
    }
    log = tmp_path / "gunicorn.log"
    with running_gunicorn(settings, log, workers=2, threads=1) as server:
        assert not leftover.exists()  # emptied at start: it would have been added in
        sent = read_until(server.base_url, directory, lambda pids: len(pids) == 2)
        first = views_by_worker(directory)  # both workers served
        text = get(server.base_url, "/metrics")
        assert article_views(text) == sent == sum(first.values())
        assert value(text, "app_worker_processes") == 2

        killed = min(first)
        os.kill(killed, signal.SIGKILL)
        sent += read_until(server.base_url, directory, lambda pids: bool(pids - set(first)))
        text = get(server.base_url, "/metrics")
        assert article_views(text) == sent  # the killed worker's views still counted
        assert value(text, "app_worker_processes") == 2  # live ones only: not 3
        assert (directory / f"histogram_{killed}.db").exists()
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    views = [line for line in lines if line["endpoint"] == "library.article"]
    assert len(views) == sent
    assert len({line["request_id"] for line in views}) == sent


def test_a_command_given_the_servers_directory_neither_fails_nor_writes_there(tmp_path):
    """A migration or the outbox worker may share the web server's environment."""
    directory, not_made_yet = tmp_path / "metrics", tmp_path / "not-made-yet"
    directory.mkdir()
    for path in (directory, not_made_yet):
        settings = {"PROMETHEUS_MULTIPROC_DIR": str(path),
                    "DATABASE_URL": f"sqlite:///{tmp_path / 'command.sqlite3'}"}  # fmt: skip
        command = [sys.executable, "-c", "import app"]
        env = server_env(settings)
        ran = subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, timeout=60)
        assert ran.returncode == 0, ran.stderr.decode(errors="replace")
    assert list(directory.iterdir()) == []


@pytest.fixture
def own_environ(monkeypatch):
    """os.environ as it was after the test, whatever the code under test set in it."""
    saved = dict(os.environ)
    monkeypatch.setattr(gunicorn_metrics, "_made_here", None)
    yield os.environ
    os.environ.clear()
    os.environ.update(saved)


def test_without_a_directory_the_server_makes_its_own(own_environ):
    own_environ.pop(gunicorn_metrics.ENV, None)
    own_environ.pop(gunicorn_metrics.MADE_BY, None)
    made = gunicorn_metrics.choose_directory()
    try:
        assert own_environ[gunicorn_metrics.ENV] == made and Path(made).is_dir()
        assert gunicorn_metrics.choose_directory() == made  # the config read again (HUP)
        own_environ[gunicorn_metrics.MADE_BY] = "1"  # a new master after USR2
        assert gunicorn_metrics.choose_directory() != made
    finally:
        gunicorn_metrics.remove_own_directory()
        os.rmdir(made)
    assert not Path(gunicorn_metrics._made_here).exists()


def test_a_given_directory_is_used_made_and_emptied_of_metric_files_only(own_environ, tmp_path):
    given = tmp_path / "run" / "metrics"
    own_environ[gunicorn_metrics.ENV] = str(given)
    own_environ.pop(gunicorn_metrics.MADE_BY, None)
    assert gunicorn_metrics.choose_directory() == str(given)
    ran = []
    hook = gunicorn_metrics.on_starting_hook(lambda server: ran.append(server))
    hook("server")
    assert ran == ["server"] and given.is_dir()  # the stack's own hook ran first
    (given / "gauge_livesum_7.db").write_bytes(b"x")
    (given / "notes.txt").write_text("not ours")
    hook("server")
    assert [path.name for path in given.iterdir()] == ["notes.txt"]


def test_the_config_file_keeps_hooks_defined_above_its_block_and_no_access_log(own_environ):
    conf = Path(__file__).resolve().parents[1] / "deploy" / "gunicorn.conf.py"
    text = conf.read_text()
    block = text.index("# ---- Prometheus metrics")
    earlier_hook = "called = []\ndef child_exit(server, worker):\n    called.append(worker)\n"
    namespace = {"__file__": str(conf)}
    try:
        exec(text[:block] + earlier_hook + text[block:], namespace)  # noqa: S102
        namespace["child_exit"](None, type("Worker", (), {"pid": 999_999})())
    finally:
        gunicorn_metrics.remove_own_directory()
    assert len(namespace["called"]) == 1
    # The app's JSON lines replace gunicorn's access log (which holds client addresses).
    assert namespace["accesslog"] is None
