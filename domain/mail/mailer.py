"""Turning a draft into a MIME message and handing it to SMTP (or to the log in development).

`send` sorts failures into two kinds, because the outbox treats them differently:
`TransientMailError` (try again later; nothing is lost) and `PermanentMailError` (this
message can never be delivered; retrying would only repeat the refusal).
"""

import logging
import random
import re
import smtplib
import ssl
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.header import Header
from email.headerregistry import BaseHeader, HeaderRegistry
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import format_datetime, formataddr, make_msgid, parseaddr
from functools import lru_cache
from itertools import chain
from typing import Any, Protocol

from email_validator import EmailNotValidError, validate_email

from domain.platform.text_input import single_line, text_problem

log = logging.getLogger(__name__)


class MailError(Exception):
    """A message could not be handed over to the mail server."""


class TransientMailError(MailError):
    """The server was unreachable, busy or said 4xx: the same message may go through later."""


class PermanentMailError(MailError):
    """The server refused this message with a 5xx reply: sending it again will not help."""


class Mailer(Protocol):
    # `kind` (e.g. "visitor_confirmation") only names the message in logs.
    def send(self, message: EmailMessage, *, kind: str = "") -> None: ...


class _FoldedOnce(BaseHeader):
    """A header that keeps how it folded: a shared one (see _ParsedOnce) is written in
    every message, and its folding depends on nothing but these three policy settings."""

    def fold(self, *, policy) -> str:
        key = (policy.linesep, policy.max_line_length, policy.utf8)
        folded = self.__dict__.setdefault("_folded", {})
        if key not in folded:
            folded[key] = super().fold(policy=policy)
        return folded[key]


class _ParsedOnce(HeaderRegistry):
    """The standard header registry, keeping the headers it parsed last. Most of a
    message's headers are the same in every message (its MIME structure, the sender, the
    owner's address), and parsing them (through a class made anew for each header) was
    most of what building a message cost. A header object is never changed once made, so
    sharing one changes no byte sent."""

    def __init__(self) -> None:
        super().__init__(base_class=_FoldedOnce)

    @lru_cache(maxsize=64)  # noqa: B019 - one registry for the process, never freed
    def __getitem__(self, name: str) -> type:
        return super().__getitem__(name)

    @lru_cache(maxsize=512)  # noqa: B019
    def __call__(self, name: str, value: str):
        return super().__call__(name, value)


# email.policy.default in every other respect: the same bytes on the wire.
POLICY = default_policy.clone(header_factory=_ParsedOnce())


def _sender_domain(sender: str) -> str:
    return parseaddr(sender)[1].rpartition("@")[2] or "localhost"


def _add_attachment(message: EmailMessage, attachment: Mapping[str, str]) -> None:
    content_type, *raw_params = (part.strip() for part in attachment["content_type"].split(";"))
    maintype, _, subtype = content_type.partition("/")
    params = dict(param.split("=", 1) for param in raw_params if "=" in param)
    content = attachment["content"]
    if content_type == "text/calendar" and "method" not in params:
        # Mail clients show Accept/Decline only when the part names the iTIP method.
        params["method"] = "CANCEL" if "METHOD:CANCEL" in content else "REQUEST"
    if maintype == "text":
        message.add_attachment(
            content, subtype=subtype, filename=attachment["filename"], params=params
        )
    else:  # the outbox stores text only; anything else travels as its UTF-8 bytes
        message.add_attachment(
            content.encode("utf-8"),
            maintype=maintype,
            subtype=subtype,
            filename=attachment["filename"],
            params=params,
        )


def build_message(
    sender: str,
    *,
    to: str,
    subject: str,
    body_text: str,
    attachments: Iterable[Mapping[str, str]] = (),
    message_id: str | None = None,
    now: datetime | None = None,
    reply_to: str | None = None,
) -> EmailMessage:
    """A plain-text email with its attachments; raises ValueError on a malformed header.

    Every header that can carry visitor input is made safe here, and only here: the subject
    is put on one line; an address with a line break or a control character is refused,
    since guessing which part of it was meant could send the mail to someone else.
    """
    message = EmailMessage(policy=POLICY)
    message["From"] = header_address(sender, "From")
    message["To"] = header_address(to, "To")
    set_subject(message, single_line(subject))
    if reply_to:
        _set_plain_header(message, "Reply-To", header_address(reply_to, "Reply-To"))
    _set_plain_header(message, "Date", format_datetime(now or datetime.now(UTC)))
    _set_plain_header(
        message, "Message-ID", message_id or make_msgid(domain=_sender_domain(sender))
    )
    # RFC 3834: tells auto-responders (out of office) not to answer a robot.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(body_text)
    for attachment in attachments:
        _add_attachment(message, attachment)
    if message.is_multipart():
        message.set_boundary(_boundary_for(message))
    return message


# The generator's own form: 15 "=", a random number of sys.maxsize's width, then "==".
_BOUNDARY_WIDTH = len(repr(sys.maxsize - 1))


def _random_boundary() -> str:
    return f"{'=' * 15}{random.randrange(sys.maxsize):0{_BOUNDARY_WIDTH}d}=="


# Drawn once per process. A message takes the first its text does not hold, so the
# Content-Type naming it is a header parsed and folded before (POLICY keeps them): a new
# boundary in every message was parsed twice and folded once, a sixth of building it.
# A boundary need only be absent from the text it separates (RFC 2046 5.1.1).
_BOUNDARIES = [_random_boundary() for _ in range(8)]


def _boundary_for(message: EmailMessage) -> str:
    """The MIME boundary the generator would choose when the message is sent, chosen now:
    the generator checks its choice against the text with a regular expression compiled
    anew for every message, which was a tenth of what sending one cost. This checks that
    no part's headers or text hold it anywhere, which is stricter; a text that holds
    every boundary drawn before gets a new one."""
    texts = [
        text
        for part in message.iter_parts()
        for text in [*map(str, part.values()), str(part.get_payload())]
    ]
    for boundary in chain(_BOUNDARIES, iter(_random_boundary, None)):
        if not any(boundary in text for text in texts):
            return boundary
    raise AssertionError("unreachable: new boundaries are drawn until one fits")


_PLAIN_ADDRESS = r"[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*"
# Values in these shapes read back, parsed, exactly as written: a date from
# format_datetime, a Message-ID, words without an encoded word, an address and a name of
# plain words.
_PLAIN_HEADERS = {
    "Date": re.compile(r"[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} [-+]\d{4}"),
    "Message-ID": re.compile(rf"<{_PLAIN_ADDRESS}>"),
    "Subject": re.compile(r"(?!.*=\?)[!-~]+(?: [!-~]+)*"),
    "Reply-To": re.compile(
        rf"(?:[A-Za-z0-9]+(?: [A-Za-z0-9]+)* <{_PLAIN_ADDRESS}>|{_PLAIN_ADDRESS})"
    ),
}


def _set_plain_header(message: EmailMessage, name: str, value: str) -> None:
    """A header kept as text when its value is plain and short: the policy writes such a
    line as it is, and it is parsed only if read, as it would have read parsed. Parsing
    and folding the headers new in every message was a fifth of building one. Any other
    value is parsed (and folded) as before."""
    if _PLAIN_HEADERS[name].fullmatch(value) and len(name) + 2 + len(value) <= HEADER_LINE:
        message.set_raw(name, value)
    else:
        message[name] = value


# Shorter than the 78 the policy refolds at, so the lines we fold are kept as they are.
HEADER_LINE = 76


def set_subject(message: EmailMessage, subject: str) -> None:
    """The subject, folded so that every decoder reads it back exactly.

    Python's own folder splits non-ASCII text into encoded words at spaces and drops the
    space between two of them ("Générale d'Études" came back "Généraled'Études"): RFC 2047
    decoders ignore whitespace between encoded words. So non-ASCII subjects are encoded
    whole, spaces inside the encoded words, and stored as folded here.
    """
    if subject.isascii():
        _set_plain_header(message, "Subject", subject)  # words fold at spaces, which survive
        return
    header = Header(subject, "utf-8", header_name="Subject")
    message.set_raw("Subject", header.encode(linesep="\n", maxlinelen=HEADER_LINE))


def sendable_address(email: str) -> str:
    """The address as every mail server takes it: an international domain (bücher.de) in
    its ASCII form (xn--bcher-kva.de). Anything else is left as it is."""
    address = email.strip()
    if address.isascii():
        return address
    try:
        return validate_email(address, check_deliverability=False).ascii_email or address
    except EmailNotValidError:
        return address


def reply_to_address(name: str, email: str) -> str:
    """ "Name <email>" for a Reply-To, the name on one line; the bare address when the
    encoded name would not fit a header line, or the address itself is not ASCII (an
    address stored before such addresses were refused)."""
    address = sendable_address(email)
    if not address.isascii():
        return address
    named = formataddr((single_line(name), address), charset="utf-8")
    return named if len(named) <= HEADER_LINE - len("Reply-To: ") else address


def header_address(value: str, header: str) -> str:
    if text_problem(value):
        raise ValueError(f"the {header} address holds a line break or a control character")
    return value


def _is_permanent(code: int) -> bool:
    return 500 <= code < 600


def classify(error: Exception) -> MailError:
    """The outbox's view of an smtplib or socket error."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        if codes and all(_is_permanent(code) for code in codes):
            return PermanentMailError(f"recipient refused: {error.recipients}")
        return TransientMailError(f"recipient deferred: {error.recipients}")
    if isinstance(
        error,
        smtplib.SMTPAuthenticationError | smtplib.SMTPSenderRefused | smtplib.SMTPConnectError,
    ):
        # Our own setup is wrong (password, sender address, server): every message would
        # fail alike, and all should go out once an operator fixes it, so keep them.
        return TransientMailError(f"mail server setup: {error}")
    if isinstance(error, smtplib.SMTPResponseException) and _is_permanent(error.smtp_code):
        return PermanentMailError(f"{error.smtp_code} {error.smtp_error!r}")
    return TransientMailError(f"{type(error).__name__}: {error}")


@dataclass(frozen=True)
class SMTPMailer:
    """Sends through an SMTP server; one connection per message keeps failures separate."""

    host: str
    port: int = 587
    username: str = ""
    password: str = field(default="", repr=False)
    starttls: bool = False
    use_ssl: bool = False
    timeout: float = 10.0

    def _connect(self) -> smtplib.SMTP:
        if self.use_ssl:
            context = ssl.create_default_context()
            return smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        return smtplib.SMTP(self.host, self.port, timeout=self.timeout)

    def _deliver(self, smtp: smtplib.SMTP, message: EmailMessage) -> None:
        if self.starttls:
            smtp.starttls(context=ssl.create_default_context())
        if self.username:
            smtp.login(self.username, self.password)
        refused = smtp.send_message(message)
        if refused:
            raise PermanentMailError(f"recipients refused: {refused}")

    def send(self, message: EmailMessage, *, kind: str = "") -> None:
        try:
            smtp = self._connect()
        except (OSError, smtplib.SMTPException) as error:
            raise classify(error) from error
        try:
            self._deliver(smtp, message)
        except (OSError, smtplib.SMTPException) as error:
            raise classify(error) from error
        finally:
            _quit_quietly(smtp)


def _quit_quietly(smtp: smtplib.SMTP) -> None:
    # Once the server has accepted the message, a failed QUIT must not make us send it again.
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()


class LogMailer:
    """No SMTP: each message is written to the log, not sent. Whole and readable where
    `show_bodies` (development); elsewhere only its id, kind and size, since addresses
    and bodies are personal data."""

    def __init__(self, logger: logging.Logger | None = None, *, show_bodies: bool = False):
        self.logger = logger or log
        self.show_bodies = show_bodies

    def __repr__(self) -> str:
        return f"LogMailer({self.logger.name!r}, show_bodies={self.show_bodies})"

    def send(self, message: EmailMessage, *, kind: str = "") -> None:
        if not self.show_bodies:
            self.logger.info(
                "email not sent (mail goes to the log): %s, %s, %d bytes",
                message["Message-ID"], kind or "kind not given", len(message.as_bytes()),
            )  # fmt: skip
            return
        headers = "\n".join(f"{name}: {value}" for name, value in message.items())
        parts = [headers, "", message.get_body(("plain",)).get_content()]
        for attachment in message.iter_attachments():
            parts.append(
                f"--- attachment {attachment.get_filename()} ({attachment.get_content_type()})"
            )
            parts.append(str(attachment.get_content()))
        self.logger.info("email not sent (no SMTP_HOST configured):\n%s", "\n".join(parts))


def mailer_from_config(config: Mapping[str, Any]) -> SMTPMailer | LogMailer:
    """SMTP when SMTP_HOST is set, unless MAIL_BACKEND=log; otherwise the log, so
    development needs no mail server."""
    if not config.get("SMTP_HOST") or config.get("MAIL_BACKEND") == "log":
        return LogMailer(show_bodies=config.get("APP_ENV") in ("development", "testing"))
    return SMTPMailer(
        host=config["SMTP_HOST"],
        port=int(config.get("SMTP_PORT") or 587),
        username=config.get("SMTP_USERNAME") or "",
        password=config.get("SMTP_PASSWORD") or "",
        starttls=bool(config.get("SMTP_STARTTLS")),
        use_ssl=bool(config.get("SMTP_SSL")),
        timeout=float(config.get("SMTP_TIMEOUT") or 10),
    )
