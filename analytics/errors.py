"""Errors of the analytics package: AnalyticsError (a CrmError, 422, with .errors {field: msg})
for bad filters or settings; its subclasses map to HTTP through CrmError's handlers."""
from __future__ import annotations

from crm.errors import CrmError


class AnalyticsError(CrmError):
    """Bad dashboard filter, segment key or scoring choice (422)."""
