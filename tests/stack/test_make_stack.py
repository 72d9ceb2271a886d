"""`make stack` as a newcomer uses it: the first run makes what it needs, Ctrl-C stops
every process it started, and the next run keeps the certificate and the secret key."""

import signal
import tempfile
from pathlib import Path

from tests.stack.harness import (
    database_url_named,
    drop_database,
    port_is_closed,
    processes_in_session,
    running_stack,
)


def test_ctrl_c_stops_everything_and_the_next_run_keeps_certificate_and_key(
    stack_settings, mail_sink
):
    root = Path(tempfile.mkdtemp(prefix="stack-again-"))
    database = database_url_named(f"{stack_settings['DATABASE_URL'].rsplit('/', 1)[1]}_again")
    settings = {**stack_settings, "DATABASE_URL": database}
    drop_database(database)
    try:
        with running_stack(settings, root=root, stop_with=signal.SIGINT) as first:
            certificate = first.certificate.read_bytes()
            secret_key = (root / "secret_key").read_text()
            assert (root / "secret_key").stat().st_mode & 0o077 == 0  # the owner's alone
            assert first.statuses() == dict.fromkeys(
                ("nginx", "web1", "web2", "worker1", "worker2"), "RUNNING"
            )
        # running_stack sent Ctrl-C (SIGINT to the group) and found no process left.
        assert not processes_in_session(first.process.pid)
        for port in (first.http_port, first.https_port, *first.app_ports):
            assert port_is_closed(port)

        with running_stack(settings, root=root) as second:  # stopped with SIGTERM
            assert second.certificate.read_bytes() == certificate
            assert (root / "secret_key").read_text() == secret_key
    finally:
        drop_database(database)
