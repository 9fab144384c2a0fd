"""抽取盲盒: draws one prize for the event's customer from a blind-box pool (by weight, never past
stock) and gives it — points, a coupon or a physical item to ship — once per step."""
from __future__ import annotations

from sqlmodel import Session

from community.rewards import boxes
from crm.customers.models import Customer
from handlers.base import ConfigField, Outcome, ProcessorContext
from handlers.builtin.crm_customer import LOOKUP_FIELDS, CustomerStep, customer_label
from handlers.builtin.rewards_common import REASON_FIELD, award_ref, award_source, referenced


class DrawBoxProcessor(CustomerStep):
    key = "rewards.draw_box"
    name = "抽取盲盒"
    description = "为事件对应的客户从盲盒奖池抽取一件奖品（按权重、不超库存）并发放；同一步骤只抽一次"
    config_fields = LOOKUP_FIELDS + (
        ConfigField("pool_id", "盲盒奖池ID", kind="number", required=True, help="见「权益中心 · 盲盒」"),
        REASON_FIELD,
    )

    def settings(self, ctx: ProcessorContext, config: dict, session: Session) -> dict:
        return referenced(ctx, config, session, "pool_id", "盲盒奖池ID", boxes.get_pool, "抽取盲盒")

    def apply(self, ctx: ProcessorContext, session: Session, customer: Customer, step: dict) -> Outcome:
        row, new = boxes.draw(session, step["pool_id"], customer.id, source=award_source(ctx),
                              source_ref=award_ref(ctx), reason=step["reason"], now=ctx.services.now())
        note = (f"客户{customer_label(customer)}从盲盒「{step['name']}」抽中「{row.prize_name}」" if new
                else f"客户{customer_label(customer)}已抽过这次盲盒（「{row.prize_name}」）")
        return Outcome(response={"draw_id": row.id, "prize": row.prize_name, "kind": row.kind, "new": new}, note=note)
