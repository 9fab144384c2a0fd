"""Errors of the people package: one exception carrying a Chinese message for the console."""
from __future__ import annotations

from typing import Optional


class PeopleError(Exception):
    """Bad input or a refused action; `field` names the form field to show the message under."""

    def __init__(self, message: str, field: Optional[str] = None):
        super().__init__(message)
        self.message = message
        self.field = field
