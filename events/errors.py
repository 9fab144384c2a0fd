"""Errors of the events package; messages are Chinese because the console shows them.

`error_body` is the one error envelope of every JSON answer under /api (drawn once, in the
OpenAPI document's components/schemas/Error). It lives here, the lowest package that answers
HTTP clients (signed ingestion stores its answer for Idempotency-Key replays):

    {"error": {"code": "invalid",          stable English code a client branches on
               "message": "…",             what went wrong, for a person
               "fields": {"name": "…"},    request field → its problem (may be empty)
               "details": [{…}],           structured items: rejected events/leads of a batch,
                                           missing permissions, strategies in the way (may be empty)
               "reference": "…"}}          only on 500: the id of the logged error
"""
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


def error_body(code: str, message: str, fields: dict | None = None, details: list | None = None,
               reference: str | None = None) -> dict:
    """The error envelope (see the module docstring); every /api error answer is built here."""
    error = {"code": code, "message": message, "fields": {str(k): str(v) for k, v in (fields or {}).items()},
             "details": list(details or [])}
    if reference:
        error["reference"] = reference
    return {"error": error}
