"""What must never reach a log line: credentials in URLs and what visitors type.

A manage link's token is a credential, so `/booking/<token>…` is logged as
`/booking/[redacted]…`. The booking form can be pre-filled from the query string, so the
values of its personal fields (name, email, company, role, message) are replaced too. Texts
from mail servers can quote an address; `without_addresses` takes those out.

`RedactingFilter` applies `redact` to every record of the loggers it is added to (the
development server's request log, the app's own); gunicorn's access log uses
deploy/gunicorn_logging.py, which applies it to each field of the line.
"""

import logging
import re

REDACTED = "[redacted]"
_MANAGE_TOKEN = re.compile(r"(/booking/)[^/?#\s\"']+")
_PERSONAL_PARAMETER = re.compile(r"([?&](?:name|email|company|role|message)=)[^&#\s\"']*")
_ADDRESS = re.compile(r"[^\s<>\"'(),;:\[\]]+@[^\s<>\"'(),;:\[\]]+")


def redact(text: str) -> str:
    """`text` with manage tokens and personal query values replaced by [redacted]."""
    text = _MANAGE_TOKEN.sub(rf"\g<1>{REDACTED}", text)
    return _PERSONAL_PARAMETER.sub(rf"\g<1>{REDACTED}", text)


def without_addresses(text: str) -> str:
    return _ADDRESS.sub("[address]", text)


class RedactingFilter(logging.Filter):
    """Rewrites a record's message through `redact` before any handler formats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


def add_redaction(logger: logging.Logger) -> None:
    """Idempotent: an app built twice in one process does not stack filters."""
    if not any(isinstance(f, RedactingFilter) for f in logger.filters):
        logger.addFilter(RedactingFilter())
