"""The SMS provider interface: hand over one message, say what became of it."""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar


@dataclass(frozen=True)
class SmsSendResult:
    status: str  # stored on SmsMessage: "outbox" (recorded only) or "sent" (accepted by a gateway)
    provider_response: str = ""


class SmsProvider(ABC):
    key: ClassVar[str] = ""
    name: ClassVar[str] = ""

    @abstractmethod
    def send(self, services, mobile: str, content: str, idempotency_key: str) -> SmsSendResult:
        """Deliver once; raise RetryableError / PermanentError (handlers.errors) on failure."""
