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


class DeferStep(ProcessorError):
    """Not now, and not the step's fault: a dependency the engine needs is unavailable (Redis is
    down, the budget store cannot answer). The engine puts the step back, due `delay_seconds`
    later (or at `until`), WITHOUT spending an attempt; history shows the try as 延后."""

    retryable = True

    def __init__(self, message: str, *, delay_seconds: float = 60.0, until=None, **kw):
        super().__init__(message, **kw)
        self.delay_seconds = float(delay_seconds)
        self.until = until  # an aware datetime, or None for now + delay_seconds


class UnknownProcessor(LookupError):
    """No processor is registered under this key."""
