"""创建任务: put a task about the event's customer on a salesperson's list in 任务中心 — a 跟进任务
(also shown in 客户跟进任务) or an ordinary one, due N hours after the step runs.

The task goes to the named 负责人, else to the customer's own salesperson; a customer nobody
follows stops the step with that reason. A re-run of the same step never creates a second task.
"""
from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session

from crm.customers.models import Customer
from crm.sales.models import PRIORITIES
from crm.sales.tasks import KIND_LABELS, PRIORITY_LABELS, create_task
from crm.scope import SYSTEM
from handlers.base import ConfigField, Outcome, ProcessorContext
from handlers.builtin.crm_customer import LOOKUP_FIELDS, CustomerStep, customer_label, render_config
from handlers.builtin.crm_refs import resolve_user
from handlers.errors import PermanentError

MAX_HOURS = 24 * 365


def _hours(raw) -> float | None:
    if raw in (None, ""):
        return None
    try:
        hours = float(raw)
    except (TypeError, ValueError):
        raise PermanentError(f"截止时间「{raw}」不是数字（单位：小时）") from None
    if not 0 < hours <= MAX_HOURS:
        raise PermanentError(f"截止时间应在 0–{MAX_HOURS} 小时之间")
    return hours


class CreateTaskProcessor(CustomerStep):
    key = "crm.create_task"
    name = "创建任务"
    description = "为事件对应的客户创建任务（跟进任务或普通任务），交给指定负责人或客户的负责人。"
    config_fields = LOOKUP_FIELDS + (
        ConfigField("title", "任务标题", required=True, help="例如：回访 ${customer_name}"),
        ConfigField("description", "任务描述", kind="textarea"),
        ConfigField("owner", "负责人", help="用户名；留空则交给客户的负责人"),
        ConfigField("kind", "任务类型", kind="select", default="follow_up", templated=False,
                    choices=tuple(KIND_LABELS.items())),
        ConfigField("priority", "优先级", kind="select", default="normal", templated=False,
                    choices=tuple((p, PRIORITY_LABELS[p]) for p in PRIORITIES)),
        ConfigField("deadline_hours", "截止时间（小时后）", kind="number", default=24, templated=False,
                    help="步骤执行后多少小时截止；留空表示不设截止时间"),
    )

    def validate_config(self, config: dict) -> list[str]:
        errors = super().validate_config(config)
        if (config.get("kind") or "follow_up") not in KIND_LABELS:
            errors.append("任务类型只能是跟进任务或普通任务")
        if (config.get("priority") or "normal") not in PRIORITIES:
            errors.append("优先级无效")
        try:
            _hours(config.get("deadline_hours"))
        except PermanentError as exc:
            errors.append(exc.message)
        return errors

    def settings(self, ctx: ProcessorContext, config: dict, session: Session) -> dict:
        title = render_config(config.get("title"), ctx.data)
        if not title:
            raise PermanentError("任务标题为空")
        step = {"title": title[:200], "description": render_config(config.get("description"), ctx.data)[:2000],
                "kind": config.get("kind") or "follow_up", "priority": config.get("priority") or "normal",
                "deadline_hours": _hours(config.get("deadline_hours"))}
        owner = render_config(config.get("owner"), ctx.data)
        if owner:
            user = resolve_user(session, owner, "负责人")
            step.update(owner_id=user.id, owner=user.display_name or user.username)
        return step

    def apply(self, ctx: ProcessorContext, session: Session, customer: Customer, step: dict) -> Outcome:
        owner_id = step.get("owner_id") or customer.owner_id
        if owner_id is None:
            raise PermanentError(f"客户{customer_label(customer)}没有负责人，请在步骤中指定任务负责人")
        now = ctx.services.now()
        hours = step["deadline_hours"]
        task = create_task(session, {
            "title": step["title"], "description": step["description"], "kind": step["kind"],
            "priority": step["priority"], "owner_id": owner_id, "customer_id": customer.id,
            "deadline": now + timedelta(hours=hours) if hours else None}, creator_id=None, now=now, viewer=SYSTEM)
        return Outcome(response={"task_id": task.id, "owner_id": owner_id},
                       note=f"已为客户{customer_label(customer)}创建{KIND_LABELS[task.kind]}「{task.title}」")

    def summary(self, step: dict, outcome: Outcome) -> str:
        return f"创建任务「{step['title']}」"
