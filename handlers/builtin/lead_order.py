"""生成订单: a 付款码 payment or a platform order (订单同步) becomes ONE paid order of the customer
the lead was identified as, credited to the customer's owner (so it runs after 识别客户 and 分配).
Other leads pass through untouched. crm may not import commerce, so this glue lives in a handler
step of the lead pipeline, where a retry of the step, a resent notification and a re-driven lead
all find the order made the first time (external id = trade number / platform order number)."""
from __future__ import annotations

from sqlmodel import Session

from commerce.orders.from_leads import order_for_lead
from crm.leads.logs import write_log
from crm.leads.models import Lead, LeadScene
from handlers.base import Outcome, ProcessorContext
from handlers.builtin.lead_step import LeadStep


class OrderFromLeadProcessor(LeadStep):
    key = "lead.order"
    name = "线索·生成订单"
    description = "付款码收款与平台订单（订单同步）生成已支付订单，归属识别出的客户及其负责人；同一交易单号/平台订单号只生成一次。"

    def apply(self, ctx: ProcessorContext, config: dict, session: Session, lead: Lead, scene: LeadScene) -> Outcome:
        settings = ctx.services.settings
        created = order_for_lead(session, lead, scene, reserve_minutes=settings.order_reserve_minutes,
                                 tz=settings.timezone, now=ctx.services.now())
        if created is None:
            return Outcome(request={"lead_id": lead.id}, note="不是付款或平台订单线索，无需生成订单")
        order = created.order
        if created.created:
            write_log(session, lead.id, "order", f"生成订单 {order.order_no}（{order.total_fen / 100:.2f} 元）",
                      actor=f"strategy:{ctx.strategy_id}")
        return Outcome(request={"lead_id": lead.id, "external_id": order.external_id},
                       response={"order_id": order.id, "order_no": order.order_no, "created": created.created},
                       note=f"订单 {order.order_no}" + ("" if created.created else "（已存在，未重复生成）"))
