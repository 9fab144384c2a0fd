"""Errors of 社群增长. Each is a crm.errors.CrmError (422; NotFound 404), shown in Chinese."""
from __future__ import annotations

from crm.errors import CrmError, NotFound


class CommunityError(CrmError):
    """Bad input or a forbidden move (spending more points than held, a draw from an empty pool)."""


class InsufficientPoints(CommunityError):
    status = 409


class CommunityNotFound(NotFound):
    pass
