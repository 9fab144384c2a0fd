"""发放优惠券: issues one code of a coupon batch to the event's customer, once per step."""
from __future__ import annotations

from sqlmodel import Session

from community.rewards import coupons
from crm.customers.models import Customer
from handlers.base import ConfigField, Outcome, ProcessorContext
from handlers.builtin.crm_customer import LOOKUP_FIELDS, CustomerStep, customer_label
from handlers.builtin.rewards_common import REASON_FIELD, award_ref, award_source, referenced


class IssueCouponProcessor(CustomerStep):
    key = "rewards.issue_coupon"
    name = "发放优惠券"
    description = "向事件对应的客户发放一张优惠券（唯一券码，按批次有效期；同一步骤只发一次）"
    config_fields = LOOKUP_FIELDS + (
        ConfigField("batch_id", "优惠券批次ID", kind="number", required=True, help="见「权益中心 · 优惠券」"),
        REASON_FIELD,
    )

    def settings(self, ctx: ProcessorContext, config: dict, session: Session) -> dict:
        return referenced(ctx, config, session, "batch_id", "优惠券批次ID", coupons.get_batch, "发放优惠券")

    def apply(self, ctx: ProcessorContext, session: Session, customer: Customer, step: dict) -> Outcome:
        coupon, new = coupons.issue(session, step["batch_id"], customer.id, source=award_source(ctx),
                                    source_ref=award_ref(ctx), reason=step["reason"], now=ctx.services.now())
        note = (f"已向客户{customer_label(customer)}发放优惠券「{step['name']}」，券码 {coupon.code}" if new
                else f"客户{customer_label(customer)}的这张优惠券已发放过（券码 {coupon.code}）")
        return Outcome(response={"coupon_id": coupon.id, "code": coupon.code, "new": new}, note=note)
