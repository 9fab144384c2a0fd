"""Processor failures, split by what the engine should do next."""
from __future__ import annotations

from typing import Optional


class ProcessorError(Exception):
    """A step failed. `retryable` tells the engine whether another attempt may succeed."""

    retryable = False

    def __init__(self, message: str, *, request: Optional[dict] = None, response: Optional[dict] = None):
        super().__init__(message)
        self.message = message
        self.request = request or {}
        self.response = response or {}


class RetryableError(ProcessorError):
    """Timeouts, 5xx, 429, a relay that is down: back off and try again."""

    retryable = True

    def __init__(self, message: str, *, retry_after: Optional[float] = None, **kw):
        super().__init__(message, **kw)
        self.retry_after = retry_after


class PermanentError(ProcessorError):
    """Bad configuration, a refused address, a 4xx: retrying cannot help."""


class UnknownProcessor(LookupError):
    """No processor is registered under this key."""
