"""gunicorn's settings: `gunicorn -c deploy/gunicorn.conf.py app:app`.

Basics only; the stack (nginx in front, TLS, static files) adds to it. Command-line flags
override anything here.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")  # nginx in front
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
timeout = 30
graceful_timeout = 20
keepalive = 5
# Off: the app writes one JSON line per request, with its request id and without the
# client's address (observability.py). `--access-logfile -` turns it back on, redacted.
accesslog = None
errorlog = "-"
# Never a manage token or a visitor's answers in a log line.
logger_class = "deploy.gunicorn_logging.RedactingLogger"


# ---- Prometheus metrics across workers (observability) ------------------------------------
# Self-contained: the work is in deploy/gunicorn_metrics.py. Hooks of the same name defined
# above still run first. Needs nothing but a writable temporary directory, or
# PROMETHEUS_MULTIPROC_DIR naming a directory of this server's own.
from deploy import gunicorn_metrics as _prometheus  # noqa: E402

_prometheus.choose_directory()
on_starting = _prometheus.on_starting_hook(globals().get("on_starting"))
child_exit = _prometheus.child_exit_hook(globals().get("child_exit"))
on_exit = _prometheus.on_exit_hook(globals().get("on_exit"))
# ---- end of the Prometheus block ----------------------------------------------------------
