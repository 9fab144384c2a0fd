"""Loading one row for an /api/v1 view: the domain services say "不存在" in their own words (and
devices' AccountNotFound is not a CrmError), the API answers one 404 that names the id asked for,
so a client can tell which of its ids was wrong. Also the error handlers the device-side APIs
share: a refused account/device change is a 422 naming the field, a budget store outage a 503."""
from __future__ import annotations

from typing import Callable, TypeVar

from flask import Blueprint

from crm.errors import CrmError, NotFound
from devices.accounts import AccountError, AccountNotFound
from devices.budget_plan import BudgetUnavailable, write_with_budget
from web.api.common import error_response
from web.auth.guards import api_error
from web.extensions import services

T = TypeVar("T")


def found(load: Callable[[], T], label: str, object_id) -> T:
    """`load()`, with "not found" (any domain's) answered as 404 naming `label` and the id."""
    try:
        return load()
    except (NotFound, AccountNotFound):
        raise NotFound(f"{label} {object_id} 不存在或无权查看") from None


def budgeted(fn: Callable):
    """`fn(session)` in one write transaction with every risk-budget decision taken before it
    (devices.budget_plan), as the console's command buttons run; Redis down → 503, nothing written."""
    svc = services()
    return write_with_budget(svc.db, fn, settings=svc.settings, redis=svc.redis, now=svc.now())


def _account_error(exc: AccountError):
    if isinstance(exc, AccountNotFound):
        return api_error(404, "not_found", exc.message)
    return api_error(422, "invalid", exc.message, fields=exc.errors or {})


def _budget_outage(exc: BudgetUnavailable):
    return api_error(503, "unavailable", exc.message)


def register_errors(bp: Blueprint) -> None:
    """The domain errors an /api/v1 blueprint of this family answers as 4xx/503, never 500."""
    bp.register_error_handler(CrmError, error_response)
    bp.register_error_handler(AccountError, _account_error)
    bp.register_error_handler(BudgetUnavailable, _budget_outage)
