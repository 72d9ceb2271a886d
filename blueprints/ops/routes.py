"""`/healthz` (alive, and can reach its database), `/readyz` (the service is ready for
traffic), `/metrics` (Prometheus, for loopback or a bearer token).

What each is for:

- `/healthz`: this process answers and its database answers one `SELECT 1`; 503 names the
  check that failed. Cheap enough to ask every few seconds. For a load balancer's (or nginx
  Plus's, HAProxy's) active check of each app server, and a Kubernetes readinessProbe: an
  instance that cannot reach its database is taken out of rotation. As a livenessProbe,
  give it a failureThreshold longer than a database failover, or use a TCP probe: a
  restart cannot mend the database, and every pod would restart together.
- `/readyz`: the service as a whole is ready for traffic: the database, Redis (when the
  rate limits are kept there; else "not used"), and the outbox (a due email waiting longer
  than READY_OUTBOX_LAG_SECONDS, default 900, fails it; emails that failed for good are
  reported, and do not). For a deploy that waits before switching traffic, an uptime
  monitor, an alert. Redis and the outbox are shared by every instance, and the site
  serves without them (rate limits fall back to memory; mail waits), so as a per-instance
  probe it would take every instance out at once: use /healthz for that.
- `/metrics`: see domain/platform/metrics.py. Anyone else gets the site's ordinary 404.

None of them reads or writes the session, sets a cookie, or counts as a reader's view; the
health answers are JSON with `Cache-Control: no-store`, so no cache answers for the app.
"""

from flask import abort, current_app, jsonify, make_response, request

from blueprints.ops import bp
from domain.booking.tokens import utc_now
from domain.mail.outbox_health import outbox_health
from domain.platform.database import outage_summary, rollback_quietly
from domain.platform.metrics import may_scrape
from domain.platform.readiness import answer, database_check, outbox_check, redis_check
from extensions import db, metrics


def fresh(body, status: int = 200):
    response = make_response(body, status)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/healthz")
def healthz():
    if database_check(db.session).failed:
        return fresh(jsonify(status="error", database="unreachable", failed=["database"]), 503)
    return fresh(jsonify(status="ok", database="ok"))


@bp.get("/readyz")
def readyz():
    config = current_app.config
    database = database_check(db.session)
    checks = [
        database,
        redis_check(config["RATELIMIT_STORAGE_URI"], config["REDIS_TIMEOUT_SECONDS"]),
        outbox_check(
            db.session,
            utc_now(),
            limit_seconds=config["READY_OUTBOX_LAG_SECONDS"],
            database_ok=not database.failed,
        ),
    ]
    body, status = answer(checks)
    return fresh(jsonify(body), status)


@bp.get("/metrics")
def prometheus_metrics():
    allowed = may_scrape(
        request.remote_addr,
        request.headers.get("Authorization"),
        current_app.config["METRICS_TOKEN"],
    )
    if not allowed:
        abort(404)  # not 401 or 403: nothing tells a stranger the page exists
    payload, content_type = metrics.exposition(read_outbox(), request.headers.get("Accept"))
    response = fresh(payload)
    response.content_type = content_type
    return response


def read_outbox():
    """The outbox's figures, or None when the database cannot give them (the scrape still
    answers, with `database_up 0`)."""
    try:
        health = outbox_health(db.session, utc_now())
        db.session.rollback()
    except Exception as error:
        rollback_quietly(db.session)
        current_app.logger.warning("metrics: database not read: %s", outage_summary(error))
        return None
    return health
