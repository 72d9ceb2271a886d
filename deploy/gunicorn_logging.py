"""gunicorn's logger with manage tokens and personal query values kept out of every line.

deploy/gunicorn.conf.py names it as `logger_class`. The access log is built from "atoms"
(request line, path, query, Referer, request and response headers…); each one is redacted
before the line is formatted, whatever `access_log_format` says. The error log, which can
quote a request's URI, gets the same filter.
"""

from gunicorn.glogging import Logger

from domain.platform.log_redaction import add_redaction, redact


class RedactingLogger(Logger):
    def setup(self, cfg):
        super().setup(cfg)
        add_redaction(self.error_log)

    def atoms(self, resp, req, environ, request_time):
        found = super().atoms(resp, req, environ, request_time)
        return {
            key: redact(value) if isinstance(value, str) else value for key, value in found.items()
        }
