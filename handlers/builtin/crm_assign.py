"""分配客户: hand the event's customer to a salesperson of a customer group — a named one, or
whoever the group's 分配规则 pick (in their order, the first rule whose conditions the customer
meets; evenly, as a rule run would). The customer joins the group first if needed, and the new
owner gets a 跟进任务 (a named salesperson: when 创建跟进任务 is ticked; by rules: as the rule says).

A customer already assigned to that salesperson — or, by rules, to anyone in the group — is
left alone. When no rule matches, the customer waits in the group pool and the step says so.
A late event whose assignment happened before a later change of who holds the customer in that
group (another event's, an operator's, a transfer) is skipped, and says so.
"""
from __future__ import annotations

from sqlmodel import Session, select

from crm.customers.models import Customer
from crm.groups.allocation import allocate_with_rule, list_rules
from crm.groups.audiences import resolve
from crm.groups.handover import hand_over
from crm.groups.links import OWNER_VERSION
from crm.groups.membership import add_to_group
from crm.groups.models import AllocationRule, GroupLink
from crm.people.models import User
from handlers.base import ConfigField, Outcome, ProcessorContext
from handlers.builtin.crm_customer import LOOKUP_FIELDS, CustomerStep, customer_label, render_config
from handlers.builtin.crm_group import GROUP_FIELD, refuse_recycled
from handlers.builtin.crm_refs import resolve_group, resolve_user
from handlers.builtin.event_order import superseded


def _name(user: User) -> str:
    return user.display_name or user.username


def _holder(session: Session, group_id: int, customer_id: int):
    """The salesperson the customer is assigned to in this group, if any."""
    return session.exec(select(User).join(GroupLink, GroupLink.assignee_id == User.id).where(
        GroupLink.group_id == group_id, GroupLink.customer_id == customer_id)).first()


class AssignProcessor(CustomerStep):
    key = "crm.assign"
    name = "分配客户"
    description = "把事件对应的客户分配给客户分组中的业务员：指定业务员，或按该分组的分配规则自动分配。"
    config_fields = LOOKUP_FIELDS + (
        GROUP_FIELD,
        ConfigField("salesperson", "业务员", help="业务员的用户名（须是该分组成员）；留空则按分组的分配规则分配"),
        ConfigField("create_task", "创建跟进任务", kind="boolean", default=True, templated=False,
                    help="指定业务员时是否为其创建跟进任务；按分配规则分配时以规则设置为准"),
    )

    def settings(self, ctx: ProcessorContext, config: dict, session: Session) -> dict:
        group = resolve_group(session, render_config(config.get("group"), ctx.data))
        step = {"group_id": group.id, "group": group.name, "create_task": bool(config.get("create_task", True))}
        raw_user = render_config(config.get("salesperson"), ctx.data)
        if raw_user:
            user = resolve_user(session, raw_user, "业务员")
            step.update(user_id=user.id, salesperson=_name(user))
        else:
            step["rules"] = [r.id for r in list_rules(session, group.id) if r.enabled]
        return step

    def prepare(self, ctx: ProcessorContext, step: dict, customer: Customer) -> dict:
        if "rules" not in step:
            return step
        # A 自定义SQL rule is evaluated read-only before the write transaction opens.
        with ctx.services.db.read() as session:
            rules = [session.get(AllocationRule, rid) for rid in step["rules"]]
        now, tz = ctx.services.now(), ctx.services.settings.timezone
        return {**step, "_sql": {r.id: resolve(ctx.services.db, r.rule or {}, now, tz) for r in rules if r}}

    def apply(self, ctx: ProcessorContext, session: Session, customer: Customer, step: dict) -> Outcome:
        refuse_recycled(customer, "分配")
        late = superseded(ctx, session, OWNER_VERSION, customer.id, step["group_id"],
                          f"客户{customer_label(customer)}" + f"分配（{step['group']}）")
        if late is not None:
            return late
        holder = _holder(session, step["group_id"], customer.id)
        if holder is not None and step.get("user_id") in (None, holder.id):
            return Outcome(response={"assigned": 0, "user_id": holder.id},
                           note=f"客户{customer_label(customer)}已分配给 {_name(holder)}（{step['group']}），未重复分配")
        now, tz = ctx.services.now(), ctx.services.settings.timezone
        if "user_id" in step:
            count = hand_over(session, step["group_id"], [(customer.id, step["user_id"])], now=now, tz=tz,
                              operator_id=None, rule_name=f"策略 #{ctx.strategy_id}", create_task=step["create_task"],
                              reason="自动化策略")
            return Outcome(response={"assigned": count, "user_id": step["user_id"]},
                           note=f"已把客户{customer_label(customer)}分配给 {step['salesperson']}（{step['group']}）")
        return self._by_rules(ctx, session, customer, step, now, tz)

    def _by_rules(self, ctx, session: Session, customer: Customer, step: dict, now, tz) -> Outcome:
        add_to_group(session, [customer.id], step["group_id"], None, reason="自动化策略", now=now,
                     rule_name=f"策略 #{ctx.strategy_id}")
        for rule_id in step["rules"]:
            rule = session.get(AllocationRule, rule_id)
            if rule is None or not rule.enabled:
                continue
            if allocate_with_rule(session, rule, step["_sql"].get(rule_id), now=now, tz=tz, only=[customer.id]):
                user = _holder(session, step["group_id"], customer.id)
                return Outcome(response={"assigned": 1, "user_id": user.id, "rule": rule.name},
                               note=f"按分配规则「{rule.name}」把客户{customer_label(customer)}分配给 {_name(user)}（{step['group']}）")
        return Outcome(response={"assigned": 0},
                       note=f"没有匹配的分配规则，客户{customer_label(customer)}留在分组「{step['group']}」公海")

    @staticmethod
    def _shown(customer: Customer, step: dict) -> dict:
        shown = CustomerStep._shown(customer, step)
        shown.pop("_sql", None)
        return shown
