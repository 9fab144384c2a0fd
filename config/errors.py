"""Errors raised by configuration and storage set-up."""


class ConfigError(Exception):
    """A setting is missing or invalid; the message names the setting."""


class ClockError(ValueError):
    """An "HH:MM" clock time or a time window that does not parse; the message says what is wrong."""
class LimiterUnavailable(Exception):
    """The shared rate-limit store (Redis) cannot answer. Limits fail closed: the request is
    refused with 503 and this message (never waved through, never an internal error)."""

    status = 503
    code = "limiter_unavailable"

    def __init__(self, retry_after: int = 30):
        self.retry_after = retry_after
        self.message = f"限流服务暂时不可用，为保护系统本次请求未处理，请 {retry_after} 秒后重试"
        super().__init__(self.message)
