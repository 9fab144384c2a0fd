"""Errors of the 工作台: a refused layout is a CrmError (422 in the API, a Chinese message next to
the field in the console) with `.errors` {"panels": message}."""
from __future__ import annotations

from crm.errors import CrmError


class WorkbenchError(CrmError):
    """A layout or role default that cannot be saved (unknown or forbidden panel keys, too many)."""
