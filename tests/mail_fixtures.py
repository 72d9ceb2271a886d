"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, for mail tests.

`smtp_server` listens on 127.0.0.1 on a free port. A test can read `.messages`, wait with
`.wait_for(n)`, refuse a recipient with `.refuse(address, "550 ...")`, and take the server
down with `.stop()` and bring it back on the same port with `.start()`.
`mail_settings` holds the app settings that point the app at it; merge them into the
`settings` fixture before asking for `app`.
"""

import socket
import threading
import time
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class ReceivedMail:
    """One message as the server took it: envelope and parsed message."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def text(self) -> str:
        return self.message.get_body(("plain",)).get_content()

    @property
    def attachments(self) -> list[EmailMessage]:
        return list(self.message.iter_attachments())


class RecordingHandler:
    """aiosmtpd handler: refuses the addresses it is told to, keeps everything else."""

    def __init__(self, server: "LoopbackSMTPServer"):
        self.server = server

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        refusal = self.server.refused.get(address.lower())
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.server.record(ReceivedMail(envelope.mail_from, tuple(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


class LoopbackSMTPServer:
    host = LOOPBACK

    def __init__(self) -> None:
        self.port = free_port()
        self.messages: list[ReceivedMail] = []
        self.refused: dict[str, str] = {}
        self._arrived = threading.Condition()
        self._controller: Controller | None = None

    @property
    def running(self) -> bool:
        return self._controller is not None

    def start(self) -> None:
        # A stopped Controller has closed its event loop, so each start builds a new one.
        if self.running:
            return
        controller = Controller(
            RecordingHandler(self), hostname=self.host, port=self.port, server_hostname="smtp.test"
        )
        controller.start()
        self._controller = controller

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def refuse(self, address: str, reply: str = "550 5.1.1 No such mailbox here") -> None:
        self.refused[address.lower()] = reply

    def record(self, mail: ReceivedMail) -> None:
        with self._arrived:
            self.messages.append(mail)
            self._arrived.notify_all()

    def wait_for(self, count: int, timeout: float = 5) -> list[ReceivedMail]:
        """The messages once at least `count` have arrived; fails the test after `timeout`."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self.messages) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"expected {count} message(s), got {len(self.messages)}")
                self._arrived.wait(remaining)
            return list(self.messages)

    def to(self, address: str) -> list[ReceivedMail]:
        return [mail for mail in self.messages if address in mail.rcpt_tos]


@pytest.fixture
def smtp_server():
    server = LoopbackSMTPServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def mail_settings(smtp_server) -> dict:
    return {
        "SMTP_HOST": smtp_server.host,
        "SMTP_PORT": smtp_server.port,
        "SMTP_USERNAME": "",
        "SMTP_PASSWORD": "",
        "SMTP_STARTTLS": False,
        "SMTP_SSL": False,
        "SMTP_TIMEOUT": 5.0,
        "MAIL_FROM": "Saed Shafane <calls@example.test>",
        "OWNER_EMAIL": "owner@example.test",
        "OWNER_NAME": "Saed Shafane",
    }
