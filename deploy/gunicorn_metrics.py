"""gunicorn's part in the app's Prometheus metrics (prometheus-client's multiprocess mode).

Each worker counts in its own files in PROMETHEUS_MULTIPROC_DIR, and a scrape, answered by
any worker, adds them all up (domain/platform/metrics.py). The directory belongs to one gunicorn
master, and this module keeps it so; deploy/gunicorn.conf.py calls it from a block of its
own at the end of the file:

- `choose_directory()`, while the config file is read: before any worker starts and before
  a preloaded app imports prometheus_client (which picks its mode at import). The
  PROMETHEUS_MULTIPROC_DIR the server was given, or, unset, a private temporary directory
  put into the environment the workers inherit; a new master (USR2 upgrade) makes its own.
- `on_starting`: the directory exists and holds no `*.db` file from an earlier run, which
  would be added to this run's counts.
- `child_exit`: a worker ended (exited, was killed, timed out): its live gauges go with it
  (`mark_process_dead`). Its counters stay in the sum, as a counter must never go down.
- `on_exit`: a temporary directory this master made is removed.

Each `*_hook(previous)` returns the hook that runs `previous` (a hook of the same name
defined earlier in the config file, if any) and then its own work, so this block replaces
no one's hook.
"""

import os
import shutil
import tempfile
from pathlib import Path

ENV = "PROMETHEUS_MULTIPROC_DIR"
MADE_BY = "PROMETHEUS_MULTIPROC_DIR_MADE_BY"  # the pid of the master that made it

_made_here: str | None = None


def choose_directory() -> str:
    """PROMETHEUS_MULTIPROC_DIR as given, or a temporary directory of this master's own."""
    global _made_here
    given = os.environ.get(ENV)
    made_by_another = os.environ.get(MADE_BY) not in (None, str(os.getpid()))
    if given and not made_by_another:
        return given
    _made_here = tempfile.mkdtemp(prefix="prometheus-multiproc-")
    os.environ[ENV] = _made_here
    os.environ[MADE_BY] = str(os.getpid())
    return _made_here


def empty_directory(path: str) -> None:
    """Make it, and remove the metric files an earlier run left (and only those)."""
    directory = Path(path)
    directory.mkdir(parents=True, exist_ok=True)
    for leftover in directory.glob("*.db"):
        leftover.unlink(missing_ok=True)


def forget_worker(pid: int) -> None:
    from prometheus_client import multiprocess  # imported by the master only when needed

    multiprocess.mark_process_dead(pid, os.environ[ENV])


def remove_own_directory() -> None:
    if _made_here:
        shutil.rmtree(_made_here, ignore_errors=True)


def on_starting_hook(previous=None):
    def on_starting(server):
        if previous:
            previous(server)
        empty_directory(os.environ[ENV])

    return on_starting


def child_exit_hook(previous=None):
    def child_exit(server, worker):
        if previous:
            previous(server, worker)
        forget_worker(worker.pid)

    return child_exit


def on_exit_hook(previous=None):
    def on_exit(server):
        if previous:
            previous(server)
        remove_own_directory()

    return on_exit
