"""deploy/gunicorn.conf.py: what every app server runs, checked on real gunicorns.

Two app servers on one machine must not fight over gunicorn's control socket: by default
gunicorn gives every server of a user the same path, which the last one to start takes
over and the first one to stop removes.
"""

import json
import subprocess
import sys
from pathlib import Path

from tests.live_server import running_gunicorn

GUNICORNC = Path(sys.executable).parent / "gunicornc"


def control_stats(socket: Path) -> dict:
    result = subprocess.run(
        [str(GUNICORNC), "-s", str(socket), "-c", "show stats", "-j"],
        capture_output=True,
        text=True,
        timeout=10,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


def settings_for(database_url: str, runtime_dir: Path, **more) -> dict:
    return {
        "DATABASE_URL": database_url,
        "XDG_RUNTIME_DIR": str(runtime_dir),  # where gunicorn's default socket would go
        "HOME": str(runtime_dir),
        **more,
    }


def test_app_servers_open_no_shared_control_socket(database_url, tmp_path):
    runtime = tmp_path / "run"
    runtime.mkdir()
    settings = settings_for(database_url, runtime)
    with (
        running_gunicorn(settings, tmp_path / "one.log", workers=1, threads=1),
        running_gunicorn(settings, tmp_path / "two.log", workers=1, threads=1),
    ):
        assert not (runtime / "gunicorn.ctl").exists()
        assert not list(runtime.rglob("*.ctl"))


def test_each_app_server_answers_on_its_own_control_socket(database_url, tmp_path):
    runtime = tmp_path / "run"
    runtime.mkdir()
    one, two = tmp_path / "web1.ctl", tmp_path / "web2.ctl"
    with (
        running_gunicorn(
            settings_for(database_url, runtime, GUNICORN_CONTROL_SOCKET=str(one)),
            tmp_path / "one.log",
            workers=1,
            threads=1,
        ) as first,
        running_gunicorn(
            settings_for(database_url, runtime, GUNICORN_CONTROL_SOCKET=str(two)),
            tmp_path / "two.log",
            workers=1,
            threads=1,
        ) as second,
    ):
        assert control_stats(one)["pid"] == first.process.pid
        assert control_stats(two)["pid"] == second.process.pid
    assert not one.exists() and not two.exists()  # each removed its own on the way out
