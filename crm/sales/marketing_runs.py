"""推送历史 bookkeeping for 定向营销: opening a push (who is in the audience this time), and
closing it (sent / failed with reasons / skipped, and when the plan runs next).

A push is identified by its plan and the time it was scheduled for (MarketingRun.ran_at): when a
push is interrupted and retried, the retry finds the same run row and so the same run id — and
with it the same per-customer idempotency keys, which is what stops a customer from getting the
message twice. Functions take the caller's Session and never commit.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Optional

from sqlmodel import Session, col, select

from config.clock import as_utc
from crm.customers.audience import audience_select
from crm.customers.models import Customer
from crm.sales.marketing import next_run_after
from crm.sales.models import MarketingPlan, MarketingRun, MessageTemplate

MAX_DETAIL = 50  # failures kept per run with their reasons; the counts stay exact
CHUNK = 500


@dataclass
class OpenRun:
    plan_id: int
    run_id: int
    scheduled: datetime
    template: Optional[MessageTemplate]
    customer_ids: list[int]
    retried: bool = False


@dataclass
class Tally:
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    detail: list = field(default_factory=list)

    def fail(self, customer_id: Optional[int], reason: str, kind: str = "failed") -> None:
        if kind == "skipped":
            self.skipped += 1
        else:
            self.failed += 1
        if len(self.detail) < MAX_DETAIL:
            self.detail.append({"customer_id": customer_id, "result": kind, "reason": reason[:300]})


def due_plan_ids(session: Session, now: datetime) -> list[int]:
    return list(session.exec(select(MarketingPlan.id).where(
        MarketingPlan.status == "active", MarketingPlan.next_run_at.is_not(None),
        MarketingPlan.next_run_at <= as_utc(now)).order_by(MarketingPlan.next_run_at, MarketingPlan.id)))


# The customer ids of a plan's product's 目标客户群 (the engine resolves products; crm cannot).
ProductAudience = Callable[[Session, MarketingPlan], list[int]]


def _audience(session: Session, plan: MarketingPlan, now: datetime, tz: str,
              product_audience: Optional[ProductAudience] = None) -> list[int]:
    spec = {"mode": "conditions", "rows": [], "include_tags": list(plan.include_tags),
            "exclude_tags": list(plan.exclude_tags)}
    if plan.refresh_audience or not plan.frozen_audience:
        ids = sorted(row[0] for row in session.exec(audience_select(session, spec, now=now, tz=tz)))
        if plan.product_id is not None:
            product = set(product_audience(session, plan)) if product_audience else set()
            ids = [i for i in ids if i in product]
        if not plan.refresh_audience:
            plan.frozen_audience = ids  # 不刷新名单: this first list is the list from now on
            session.add(plan)
        return ids
    # A frozen list still drops customers moved to the 回收站 (or deleted) since.
    frozen, alive = list(plan.frozen_audience), []
    for start in range(0, len(frozen), CHUNK):
        alive += session.exec(select(Customer.id).where(col(Customer.id).in_(frozen[start:start + CHUNK]),
                                                        Customer.status == "active")).all()
    return sorted(alive)


def open_run(session: Session, plan_id: int, now: datetime, tz: str,
             product_audience: Optional[ProductAudience] = None) -> Optional[OpenRun]:
    """Starts (or resumes) the push a due plan owes; None when the plan is not due any more.
    `product_audience` gives a product plan's target customers (none without it)."""
    now = as_utc(now)
    plan = session.get(MarketingPlan, plan_id)
    if plan is None or plan.status != "active" or plan.next_run_at is None or as_utc(plan.next_run_at) > now:
        return None
    scheduled = as_utc(plan.next_run_at)
    last = session.exec(select(MarketingRun).where(MarketingRun.plan_id == plan.id)
                        .order_by(MarketingRun.id.desc()).limit(1)).first()
    retried = last is not None and as_utc(last.ran_at) == scheduled
    run = last if retried else MarketingRun(plan_id=plan.id, ran_at=scheduled)
    ids = _audience(session, plan, now, tz, product_audience)
    run.audience = len(ids)
    session.add(run)
    session.flush()
    template = session.get(MessageTemplate, plan.template_id)
    return OpenRun(plan.id, run.id, scheduled, template, ids, retried)


def load_customers(session: Session, ids: list[int]) -> list[Customer]:
    return list(session.exec(select(Customer).where(col(Customer.id).in_(ids), Customer.status == "active")
                             .order_by(Customer.id)))


def save_progress(session: Session, run_id: int, tally: Tally) -> None:
    run = session.get(MarketingRun, run_id)
    run.sent, run.failed, run.skipped, run.detail = tally.sent, tally.failed, tally.skipped, list(tally.detail)
    session.add(run)


def close_run(session: Session, opened: OpenRun, tally: Tally, now: datetime, tz: str) -> MarketingPlan:
    """Records the counts and moves the plan on: its next push, or 已结束 after 执行一次."""
    save_progress(session, opened.run_id, tally)
    plan = session.get(MarketingPlan, opened.plan_id)
    if plan.status == "active":
        plan.next_run_at = next_run_after(plan, opened.scheduled, now, tz)
        if plan.next_run_at is None:
            plan.status = "finished"
    session.add(plan)
    session.flush()
    return plan
