"""Errors of the customer center; messages are Chinese because the console shows them."""
from __future__ import annotations


class CrmError(Exception):
    """Bad input. `errors` maps a form field to its Chinese message."""

    status = 422

    def __init__(self, message: str, errors: dict | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


class NotFound(CrmError):
    status = 404
