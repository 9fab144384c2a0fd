"""移入分组: put the event's customer into a customer group's pool (小组公海), optionally
releasing their other group relations first (解除原分组关系). A customer already in the group
stays as they are; customers in the recycle bin are never grouped. A late event whose move
happened before a later change of the customer's place in that group is skipped, and says so.
"""
from __future__ import annotations

from sqlmodel import Session

from crm.customers.models import Customer
from crm.groups.links import GROUP_VERSION
from crm.groups.membership import add_to_group
from handlers.base import ConfigField, Outcome, ProcessorContext
from handlers.builtin.crm_customer import LOOKUP_FIELDS, CustomerStep, customer_label, render_config
from handlers.builtin.crm_refs import resolve_group
from handlers.builtin.event_order import superseded
from handlers.errors import PermanentError

GROUP_FIELD = ConfigField("group", "客户分组", required=True, help="分组ID或分组名称（见「客户分组管理」），可使用 ${变量}")


def refuse_recycled(customer: Customer, what: str) -> None:
    if customer.status != "active":
        raise PermanentError(f"客户{customer_label(customer)}在回收站中，不能{what}")


class MoveToGroupProcessor(CustomerStep):
    key = "crm.move_to_group"
    name = "移入客户分组"
    description = "把事件对应的客户放入指定客户分组的公海，可选择解除其原有分组关系。"
    config_fields = LOOKUP_FIELDS + (
        GROUP_FIELD,
        ConfigField("break_old", "解除原分组关系", kind="boolean", default=False, templated=False,
                    help="勾选后，客户先退出其他分组（原分配一并解除），再加入本分组"),
    )

    def settings(self, ctx: ProcessorContext, config: dict, session: Session) -> dict:
        group = resolve_group(session, render_config(config.get("group"), ctx.data))
        return {"group_id": group.id, "group": group.name, "break_old": bool(config.get("break_old"))}

    def apply(self, ctx: ProcessorContext, session: Session, customer: Customer, step: dict) -> Outcome:
        refuse_recycled(customer, "分组")
        late = superseded(ctx, session, GROUP_VERSION, customer.id, step["group_id"],
                          f"客户{customer_label(customer)}" + f"移入分组「{step['group']}」")
        if late is not None:
            return late
        added = add_to_group(session, [customer.id], step["group_id"], None, step["break_old"], reason="自动化策略",
                             now=ctx.services.now(), rule_name=f"策略 #{ctx.strategy_id}")
        if added:
            note = f"已把客户{customer_label(customer)}移入分组「{step['group']}」"
        else:
            note = f"客户{customer_label(customer)}已在分组「{step['group']}」中"
        return Outcome(response={"added": added}, note=note)

    def summary(self, step: dict, outcome: Outcome) -> str:
        return f"移入分组「{step['group']}」"
