"""The application factory: one small function per concern (cookiecutter-flask style)."""

import atexit
import logging
import os
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path

from flask import Flask, current_app, make_response, render_template, request, session, url_for
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

import config as settings
from domain.content.counters import CounterBuffer, by_local_day, counting_zone, upsert_counts
from domain.content.library import fingerprint_files, load_library
from domain.content.static_versions import IMMUTABLE, MINIFIED, StaticVersions
from domain.platform.database import configure_engine, outage_summary, unreachable
from domain.platform.log_redaction import add_redaction
from domain.platform.request_log import install_request_id_records
from extensions import (
    csrf,
    db,
    limiter,
    login_manager,
    metrics,
    migrate,
    outbox_delivery,
    rate_limit_storage_options,
)
from fast_pages import FastArticlePages, remember_visit
from fast_picker import FastPickerPages
from models import modelled_name
from observability import current_request_id, register_request_observation

LOG_FORMAT = "%(levelname)s %(name)s [%(request_id)s] %(message)s"
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def create_app(config: type[settings.Config] | dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    configure(app, config)
    register_logging(app)
    register_request_observation(app)
    register_url_converters(app)
    register_fast_pages(app)
    register_extensions(app)
    register_content(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_security_headers(app)
    register_counters(app)
    register_attribution(app)
    register_commands(app)
    register_template_helpers(app)
    register_static_versions(app)
    return app


def configure(app: Flask, config: type[settings.Config] | dict | None) -> None:
    overrides = config if isinstance(config, dict) else {}
    config_class = config if isinstance(config, type) else settings.config_for_environment()
    if isinstance(config, dict) and config.get("TESTING"):
        config_class = settings.TestConfig
    app.config.from_object(config_class)
    app.config.update(overrides)
    if config_class is settings.ProductionConfig:
        settings.check_production(app.config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    database_url = app.config.get("DATABASE_URL") or settings._sqlite_url_in(app.instance_path)
    app.config.setdefault("SQLALCHEMY_DATABASE_URI", settings.normalise_database_url(database_url))


def register_logging(app: Flask) -> None:
    # Before anything asks for app.logger, so that Flask leaves it to these handlers; every
    # record gets a request id before one is formatted. Each request's own line is JSON
    # (observability.py).
    install_request_id_records(current_request_id)
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"), format=LOG_FORMAT)
    # The development server's request log and Flask's own error lines quote the URL, which
    # can hold a manage token (gunicorn's log: deploy/gunicorn_logging.py).
    add_redaction(logging.getLogger("werkzeug"))
    add_redaction(app.logger)
    # flask-limiter names each refused key at INFO, and a key is a client's address; the
    # refusals are counted in /metrics instead.
    logging.getLogger("flask-limiter").setLevel(logging.WARNING)


class DatabaseIdConverter(IntegerConverter):
    """`<int:...>` as a row id: ASCII digits within PostgreSQL's integer (1..2**31-1).

    A larger number would reach the database and fail there (PostgreSQL refuses it as an
    integer, SQLite overflows): out of range, it is simply no page, 404.
    """

    regex = r"[0-9]{1,10}"

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def register_url_converters(app: Flask) -> None:
    # Before any blueprint: a rule takes its converter when it is added.
    app.url_map.converters["int"] = DatabaseIdConverter


def register_fast_pages(app: Flask) -> None:
    # Before register_extensions, so that ProxyFix wraps them and they see the client's
    # scheme and address as Flask does. They read the library, counters and metrics per
    # request (the picker's also the database, once register_extensions has bound it).
    if app.config.get("FAST_ARTICLE_PAGES", True):
        app.wsgi_app = FastArticlePages(app, app.wsgi_app)
    if app.config.get("FAST_PICKER_PAGES", True):
        app.wsgi_app = FastPickerPages(app, app.wsgi_app)


def register_extensions(app: Flask) -> None:
    if app.config["PROXY_COUNT"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["PROXY_COUNT"], x_proto=1)
    db.init_app(app)
    with app.app_context():
        configure_engine(db.engine)
    migrations = str(Path(__file__).parent / "migrations")
    migrate.init_app(app, db, directory=migrations, include_name=modelled_name)
    csrf.init_app(app)
    app.config.setdefault(
        "RATELIMIT_STORAGE_OPTIONS",
        rate_limit_storage_options(
            app.config["RATELIMIT_STORAGE_URI"], app.config["REDIS_TIMEOUT_SECONDS"]
        ),
    )
    limiter.init_app(app)
    login_manager.init_app(app)
    outbox_delivery.init_app(app)
    metrics.init_app(app)
    login_manager.login_view = "owner.login"
    login_manager.session_protection = "strong"


def register_content(app: Flask) -> None:
    # Parsed once per process; a malformed article stops start-up with its name and field.
    app.extensions["library"] = load_library(app.config["CONTENT_DIR"], app.static_folder)
    # Part of every article's ETag, so a new template or stylesheet invalidates caches.
    # The minified copies are left out: they follow from the sources, and a worker that
    # starts before another has written them must get the same fingerprint.
    static = Path(app.root_path) / "static"
    app.config["PAGE_FINGERPRINT"] = fingerprint_files(
        Path(app.root_path) / "templates", static, skip=static / MINIFIED
    )


def register_attribution(app: Flask) -> None:
    tracked = {"library.index", "library.article", "library.topic", "booking.book"}

    @app.before_request
    def remember_where_the_visitor_came_from():
        if request.method != "GET" or request.endpoint not in tracked:
            return
        if "_user_id" in session:
            # The owner is not a lead, and a visit would make the owner's session cookie
            # permanent (90 days): it must end with the browser and after 12 idle hours.
            return
        slug = (request.view_args or {}).get("slug")
        if slug and app.extensions["library"].article(slug) is None:
            slug = None
        remember_visit(app, session, request, slug)


def register_commands(app: Flask) -> None:
    from blueprints.booking import availability_cli, outbox_cli
    from blueprints.library import content_cli
    from blueprints.ops import backup_cli
    from blueprints.owner import calendar_cli, owner_cli

    for group in (content_cli, availability_cli, outbox_cli, owner_cli, calendar_cli, backup_cli):
        app.cli.add_command(group)
    from blueprints.owner.caldav_cli import caldav_cli

    app.cli.add_command(caldav_cli)


def register_template_helpers(app: Flask) -> None:
    @app.template_global()
    def absolute_url(endpoint: str, **values) -> str:
        return app.config["SITE_URL"] + url_for(endpoint, **values)

    @app.template_filter()
    def month_year(value) -> str:
        return value.strftime("%B %Y")

    @app.template_global()
    def now_year() -> int:
        return datetime.now(UTC).year


def register_static_versions(app: Flask) -> None:
    """Every static URL carries its file's content hash (`?v=`); a URL with the current
    hash may be cached for a year. Any other static URL is revalidated (ETag)."""
    versions = StaticVersions()

    @app.url_defaults
    def add_static_version(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "filename" in values and "v" not in values:
            values["filename"] = versions.served(app.static_folder, values["filename"])
            version = versions.version(app.static_folder, values["filename"])
            if version:
                values["v"] = version

    @app.after_request
    def cache_versioned_static_files(response):
        if request.endpoint != "static" or response.status_code not in (200, 304):
            return response
        asked = request.args.get("v")
        filename = (request.view_args or {}).get("filename", "")
        if asked and asked == versions.version(app.static_folder, filename):
            response.headers["Cache-Control"] = IMMUTABLE
        return response


def register_blueprints(app: Flask) -> None:
    from blueprints.booking import bp as booking_bp
    from blueprints.library import bp as library_bp
    from blueprints.ops import bp as ops_bp
    from blueprints.owner import bp as owner_bp
    from blueprints.seo import bp as seo_bp

    app.register_blueprint(library_bp)
    app.register_blueprint(booking_bp)
    app.register_blueprint(owner_bp)
    app.register_blueprint(seo_bp)
    app.register_blueprint(ops_bp)


def register_errorhandlers(app: Flask) -> None:
    def render_error(error):
        code = getattr(error, "code", 500)
        return render_template(f"errors/{code}.html"), code

    for code in (404, 405, 413, 500):
        app.register_error_handler(code, render_error)

    def bad_request(error):
        expired = isinstance(error, CSRFError)
        return render_template("errors/400.html", expired=expired), 400

    app.register_error_handler(400, bad_request)

    def database_unavailable(error):
        if not unreachable(error):
            raise error  # a mistake, not an outage: Flask's 500 path logs it in full
        with suppress(Exception):  # the connection is gone; the session is discarded anyway
            db.session.rollback()
        # One line per request; the endpoint, not the URL (a manage link holds a token).
        app.logger.error(
            "database unreachable during %s %s: %s",
            request.method, request.endpoint, outage_summary(error),
        )  # fmt: skip
        return unavailable_page()

    app.register_error_handler(DBAPIError, database_unavailable)
    app.register_error_handler(PoolTimeout, database_unavailable)


def unavailable_page():
    """The friendly 503 with Retry-After, for a page whose database work cannot be done.

    Rendered without context processors: Flask-Login's would load the owner again, from
    the database that just failed.
    """
    page = current_app.jinja_env.get_template("errors/503.html").render()
    response = make_response(page, 503)
    response.headers["Retry-After"] = str(current_app.config["RETRY_AFTER_SECONDS"])
    return response


def register_security_headers(app: Flask) -> None:
    @app.after_request
    def add_security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        # A window we open, or that opens us, gets no handle on ours (window.opener).
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        response.headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()"
        )
        if request.is_secure:
            response.headers.setdefault(
                "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
            )
        return response


def register_counters(app: Flask) -> None:
    def write(batch):
        # Its own app context: the timer's thread (deploy/gunicorn.conf.py) has none.
        with app.app_context(), db.engine.begin() as connection:
            upsert_counts(connection, by_local_day(batch, counting_zone(connection)))

    buffer = CounterBuffer(write, app.config["COUNTER_FLUSH_SECONDS"])
    app.extensions["counters"] = buffer

    @app.teardown_request
    def flush_counters(_error):
        try:
            buffer.flush_if_due()
        except Exception:  # a counter must never break a reader's page
            app.logger.exception("could not write article counters; kept for the next flush")

    def flush_at_exit():
        with app.app_context():
            try:
                buffer.flush()
            except Exception:
                app.logger.exception("could not write article counters at exit")

    atexit.register(flush_at_exit)


app = create_app()
