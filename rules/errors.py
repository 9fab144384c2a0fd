"""Errors of the rules package (messages in Chinese: the console shows them)."""
from __future__ import annotations


class RulesError(Exception):
    """Bad input; `errors` maps a form field (or "conditions"/"steps[i]") to Chinese messages."""

    def __init__(self, message: str, errors: dict | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


class NotFound(RulesError):
    pass
