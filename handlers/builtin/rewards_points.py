"""发放积分: gives the event's customer points in the one ledger (community.points), once per step,
with the reason and an optional validity in days (the expiry job lapses what is left after it)."""
from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session

from community import points
from crm.customers.models import Customer
from handlers.base import ConfigField, Outcome, ProcessorContext
from handlers.builtin.crm_customer import LOOKUP_FIELDS, CustomerStep, customer_label, render_config
from handlers.builtin.rewards_common import REASON_FIELD, award_ref, award_source, reason_of, whole_number


class GrantPointsProcessor(CustomerStep):
    key = "rewards.grant_points"
    name = "发放积分"
    description = "为事件对应的客户发放积分（记入积分账本，含原因与来源；同一步骤只发一次）"
    config_fields = LOOKUP_FIELDS + (
        ConfigField("points", "积分", kind="number", required=True, default=10, help="正整数，可用 ${变量}"),
        REASON_FIELD,
        ConfigField("valid_days", "有效天数", kind="number", default=0, templated=False, help="0 表示长期有效"),
    )

    def settings(self, ctx: ProcessorContext, config: dict, session: Session) -> dict:
        return {"points": whole_number(render_config(config.get("points"), ctx.data), "积分"),
                "reason": reason_of(ctx, render_config(config.get("reason"), ctx.data), "发放积分"),
                "valid_days": whole_number(config.get("valid_days") or 0, "有效天数", 0)}

    def apply(self, ctx: ProcessorContext, session: Session, customer: Customer, step: dict) -> Outcome:
        now = ctx.services.now()
        expires = now + timedelta(days=step["valid_days"]) if step["valid_days"] else None
        entry, new = points.earn(session, customer.id, step["points"], reason=step["reason"], source=award_source(ctx),
                                 source_ref=award_ref(ctx), expires_at=expires, now=now)
        note = (f"已为客户{customer_label(customer)}发放 {step['points']} 积分，余额 {entry.balance_after}" if new
                else f"客户{customer_label(customer)}的这笔积分已发放过，未重复发放")
        return Outcome(response={"points_entry_id": entry.id, "points": step["points"], "new": new}, note=note)
