"""Errors of the events package; messages are Chinese because the console shows them."""
from __future__ import annotations


class EventsError(Exception):
    """Bad input to an events service. `errors` maps a field name to its Chinese message."""

    def __init__(self, message: str, errors: dict | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


class NotFound(EventsError):
    pass


class IngestError(Exception):
    """Refuses a whole ingestion request: `status` is the HTTP status to answer with."""

    def __init__(self, status: int, code: str, message: str, details: list | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or []
