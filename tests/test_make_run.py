"""`make run`, as a newcomer starts it: on the port asked for, with links that point there."""

import os
import re
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

from tests.mail_fixtures import free_port

PROJECT = Path(__file__).resolve().parents[1]


def test_make_run_serves_on_the_port_given_and_its_links_follow(tmp_path):
    port = free_port()
    env = {key: value for key, value in os.environ.items() if key not in ("SITE_URL", "APP_ENV")}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'site.sqlite3'}"
    process = subprocess.Popen(
        ["make", "--no-print-directory", "run", f"PORT={port}"],
        cwd=PROJECT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        page = wait_for_page(f"http://127.0.0.1:{port}/", timeout=60)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
    canonical = re.search(r'<link rel="canonical" href="([^"]+)"', page).group(1)
    assert canonical == f"http://127.0.0.1:{port}/"


def wait_for_page(url: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.read().decode()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
