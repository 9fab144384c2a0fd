"""Budget decisions taken outside the write transaction, for code that only learns what it will
issue while it holds that transaction (the workbench steps, 流量分发, 入群欢迎语, console actions).

House rule: nothing holds the database write lock across a network call — a frozen Redis used
to stall every writer (event ingestion included) for its socket timeout. `write_with_budget`
runs `fn(session)` in a write transaction; while the budget lives in Redis, issue_command inside
it never calls Redis: a command with no decision yet is issued provisionally (as if allowed) and
noted, the pass is rolled back, the noted decisions are taken with no transaction open, and
`fn` runs again with them. Usually two passes, each holding the write lock for local work only.
Decisions the final pass did not use, or all of them when it fails, are given back
(budget_store.release). Without Redis `fn` runs once: the counters are rows in its transaction.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Optional, TypeVar

from sqlmodel import Session

from config.redis_factory import is_outage
from devices.budget_store import release
from devices.budget_types import Allow
from devices.errors import DeviceError

log = logging.getLogger(__name__)
PLAN_KEY = "ckb_budget_plan"
MAX_PASSES = 4  # each pass can only add decisions; a body that keeps changing its mind is deferred
OUTAGE_MESSAGE = "风控服务（Redis）暂时不可用，请稍后再试"
T = TypeVar("T")


class BudgetUnavailable(DeviceError):
    """The budget store (Redis) could not answer: defer the step, or answer 503 — never a 500."""

    def __init__(self, message: str = OUTAGE_MESSAGE):
        super().__init__(message)


@dataclass
class _Plan:
    decisions: dict
    missing: dict = field(default_factory=dict)
    used: set = field(default_factory=set)


@dataclass(frozen=True)
class _Request:
    account_id: int
    kind: str
    payload: dict
    customer_key: str
    source: str


def planned_decision(session: Session, idempotency_key: Optional[str], account_id: int, kind: str, payload: dict,
                     customer_key: str, source: str, now: datetime):
    """For issue_command: the decision taken before this transaction, a provisional Allow (noted
    for the next pass), or None when no plan is running (the caller decides in the transaction)."""
    plan: Optional[_Plan] = session.info.get(PLAN_KEY)
    if plan is None:
        return None
    key = (idempotency_key or "", account_id, kind, json.dumps(payload, sort_keys=True, default=str),
           customer_key or "", source)
    if key in plan.decisions:
        plan.used.add(key)
        return plan.decisions[key]
    plan.missing[key] = _Request(account_id, kind, dict(payload), customer_key or "", source)
    return Allow(now)


class _Replan(Exception):
    """Rolls back a pass that issued provisionally."""


def write_with_budget(db, fn: Callable[[Session], T], *, settings=None, redis=None, now=None) -> T:
    """`fn(session)` in one write transaction, every budget decision taken before it (see the
    module doc). Raises BudgetUnavailable when Redis cannot answer (nothing is written)."""
    if redis is None and not getattr(settings, "redis_url", ""):
        with db.write() as session:
            return fn(session)
    decisions: dict = {}
    try:
        for _ in range(MAX_PASSES):
            plan = _Plan(decisions)
            try:
                with db.write() as session:
                    session.info[PLAN_KEY] = plan
                    result = fn(session)
                    if plan.missing:
                        raise _Replan()
                    session.info.pop(PLAN_KEY, None)
            except _Replan:
                _decide(db, plan.missing, decisions, settings, redis, now)
                continue
            give_back([d for k, d in decisions.items() if k not in plan.used], settings, redis)
            return result
        raise BudgetUnavailable("风控预占未能在几轮内确定，请稍后再试")
    except BaseException:
        give_back(list(decisions.values()), settings, redis)
        raise


def _decide(db, missing: dict, decisions: dict, settings, redis, now) -> None:
    from devices.commands import CommandError, reserve_budget  # commands imports this module
    from devices.budget_types import Refuse

    for key, req in missing.items():
        try:
            decisions[key] = reserve_budget(db, req.account_id, req.kind, req.payload, customer_key=req.customer_key,
                                            source=req.source, now=now, settings=settings, redis=redis)
        except CommandError as exc:
            decisions[key] = Refuse(exc.message)  # issue_command raises the same error in the next pass
        except Exception as exc:
            if is_outage(exc):
                raise BudgetUnavailable() from exc
            raise


def give_back(unused, settings, redis) -> None:
    """Releases the counters of decisions that were taken but never used (best effort)."""
    for decision in unused:
        try:
            release(decision, settings, redis)
        except Exception as exc:  # noqa: BLE001 - a lost refund only leaves the budget tighter
            if not is_outage(exc):
                raise
            log.warning("Redis 不可用：未用的风控预占未能退回")
