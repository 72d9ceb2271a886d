"""gunicorn's settings: `gunicorn -c deploy/gunicorn.conf.py app:app`.

What every app server runs: the systemd units (deploy/systemd/), the Procfile's `web` and
`make stack`. nginx sits in front (TLS, buffering, static files), so a slow client never
holds a worker here. Settings come from the environment; command-line flags override
anything here.
"""

import os

# GUNICORN_BIND wins; a host that reads the Procfile gives PORT; else nginx's upstream.
bind = os.environ.get("GUNICORN_BIND") or (
    f"0.0.0.0:{os.environ['PORT']}" if os.environ.get("PORT") else "127.0.0.1:8000"
)
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
timeout = 30
# On SIGTERM (a deploy, `systemctl restart`): stop accepting, finish what is in hand for at
# most this long, then exit. systemd's TimeoutStopSec and the stack's stopwaitsecs allow it.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "20"))
keepalive = 5
# X-Forwarded-Proto and friends are believed only from the proxy. The client's address
# comes from X-Forwarded-For through the app's ProxyFix (PROXY_COUNT=1 behind nginx).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# gunicorn's control socket (gunicornc) defaults to one path per user, which a second app
# server on the machine takes over (and removes when either stops): one path per server
# when asked for, none otherwise.
if os.environ.get("GUNICORN_CONTROL_SOCKET"):
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]
else:
    control_socket_disable = True
# Off: the app writes one JSON line per request, with its request id (nginx's, when it
# passes one on) and without the client's address (observability.py).
# `--access-logfile -` turns it back on, redacted.
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


# ---- Article view counters (domain/content/counters.py) -----------------------------------
# Each worker writes its in-memory view counts on a timer of its own, off the readers' path,
# and writes what is left when it exits (a deploy, a restart), so counted views equal served
# views. Only an app that keeps counters (the site, not the bench's hello world) has them.
def _counters_of(worker):
    extensions = getattr(getattr(worker, "wsgi", None), "extensions", None)
    return extensions.get("counters") if isinstance(extensions, dict) else None


def _with_counter_timer(previous):
    def post_worker_init(worker):
        if previous:
            previous(worker)
        if (counters := _counters_of(worker)) is not None:
            counters.start_timer()

    return post_worker_init


def _with_last_counts(previous):
    def worker_exit(server, worker):
        if previous:
            previous(server, worker)
        if (counters := _counters_of(worker)) is None:
            return
        try:
            counters.stop()
        except Exception:
            worker.log.exception("could not write the article counters at exit")

    return worker_exit


post_worker_init = _with_counter_timer(globals().get("post_worker_init"))
worker_exit = _with_last_counts(globals().get("worker_exit"))
# ---- end of the counters block ------------------------------------------------------------
