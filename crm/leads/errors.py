"""Errors of 场景获客; messages are Chinese because the console and API callers show them."""
from __future__ import annotations

from crm.errors import CrmError, NotFound


class LeadsError(CrmError):
    """Bad input or configuration. `errors` maps a field to its Chinese message."""


class LeadNotFound(NotFound):
    pass


class SubmissionRefused(LeadsError):
    """A submission that cannot become a lead (HTTP 400): `errors` names each field."""

    status = 400
