"""Errors of 数据中心. Each is a crm.errors.CrmError: the console shows the Chinese message next to
the field it names, the API answers in the one error envelope (422; ScopeNotFound 404, so another
team's figures look exactly like an unknown team)."""
from __future__ import annotations

from crm.errors import CrmError, NotFound


class AnalyticsError(CrmError):
    """Bad input: an unknown period, a negative target, a bad dashboard filter, segment key or
    scoring choice."""


class ScopeNotFound(NotFound):
    """The person / team / account asked for does not exist or is outside the viewer's scope."""
