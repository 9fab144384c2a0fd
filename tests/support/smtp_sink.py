"""A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps every message it accepts.

    sink = SmtpSink().start()
    settings = services.settings.model_copy(update=sink.settings_update())
    ... sink.messages[0].message["Subject"], sink.messages[0].rcpt_tos ...
    sink.refuse_data = "451 4.3.0 Try again later"     # or refuse_rcpt = "550 5.1.1 No such user"
    sink.stop()
"""
from __future__ import annotations

import socket
import threading
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Optional

from aiosmtpd.controller import Controller


@dataclass
class ReceivedMail:
    mail_from: str
    rcpt_tos: list
    message: EmailMessage

    @property
    def body(self) -> str:
        part = self.message.get_body(("plain", "html"))
        return part.get_content() if part is not None else ""


class _Handler:
    def __init__(self, sink: "SmtpSink"):
        self.sink = sink

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.sink.refuse_rcpt:
            return self.sink.refuse_rcpt
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.sink.refuse_data:
            return self.sink.refuse_data
        message = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        with self.sink._lock:
            self.sink.messages.append(ReceivedMail(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted"


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


class SmtpSink:
    def __init__(self, host: str = "127.0.0.1"):
        self.host = host
        self.port = 0
        self.messages: list[ReceivedMail] = []
        self.refuse_rcpt: Optional[str] = None
        self.refuse_data: Optional[str] = None
        self._lock = threading.Lock()
        self._controller: Optional[Controller] = None

    def start(self) -> "SmtpSink":
        # aiosmtpd's Controller needs a concrete port up front; a just-freed one may be taken
        # by a parallel test in the meantime, so try a few.
        last_error: Optional[Exception] = None
        for _ in range(5):
            self.port = _free_port(self.host)
            controller = Controller(_Handler(self), hostname=self.host, port=self.port, ready_timeout=5)
            try:
                controller.start()
            except (OSError, RuntimeError) as exc:
                last_error = exc
                continue
            self._controller = controller
            return self
        raise RuntimeError(f"SMTP sink could not start: {last_error}")

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def settings_update(self) -> dict:
        """Overrides for Settings.model_copy(update=...) that point the mailer here."""
        return {"smtp_host": self.host, "smtp_port": self.port, "smtp_starttls": False,
                "smtp_user": "", "smtp_password": ""}

    def refuse(self, stage: str, reply: str) -> None:
        """stage "rcpt" or "data"; reply e.g. "550 5.1.1 No such user" or "451 4.3.0 Try later"."""
        if stage == "rcpt":
            self.refuse_rcpt = reply
        elif stage == "data":
            self.refuse_data = reply
        else:
            raise ValueError(stage)
