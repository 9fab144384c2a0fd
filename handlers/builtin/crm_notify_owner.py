"""通知客户负责人: an in-site notification (the bell in the console) to the salesperson who
follows the event's customer — the customer's owner, else whoever it is assigned to in its
groups. Title and body may use ${变量}; the notification links to the customer by default.
A re-run of the same step never notifies twice.
"""
from __future__ import annotations

from sqlmodel import Session, col, select

from crm.customers.models import Customer
from crm.groups.models import GroupLink
from crm.people.models import Notification, User
from handlers.base import ConfigField, Outcome, ProcessorContext
from handlers.builtin.crm_customer import LOOKUP_FIELDS, CustomerStep, customer_label, render_config
from handlers.errors import PermanentError


def customer_link(customer_id: int) -> str:
    return f"/customers/{customer_id}"


class NotifyOwnerProcessor(CustomerStep):
    key = "crm.notify_owner"
    name = "通知客户负责人"
    description = "给事件对应客户的负责人（业务员）发送站内通知，标题和内容可使用 ${变量}。"
    config_fields = LOOKUP_FIELDS + (
        ConfigField("title", "标题", required=True, help="例如：${customer_name} 刚刚下单"),
        ConfigField("body", "内容", kind="textarea"),
        ConfigField("link", "链接", help="站内地址，以 / 开头；留空则链接到客户详情"),
    )

    def settings(self, ctx: ProcessorContext, config: dict, session: Session) -> dict:
        title = render_config(config.get("title"), ctx.data)
        if not title:
            raise PermanentError("通知标题为空")
        link = render_config(config.get("link"), ctx.data)
        if link and (not link.startswith("/") or link.startswith("//") or "\\" in link):
            raise PermanentError("通知链接必须是以 / 开头的站内路径")
        return {"title": title[:200], "body": render_config(config.get("body"), ctx.data)[:5000], "link": link[:500]}

    def _recipients(self, session: Session, customer: Customer) -> list[User]:
        if customer.owner_id is not None:
            ids = [customer.owner_id]
        else:
            ids = list(session.exec(select(GroupLink.assignee_id).where(
                GroupLink.customer_id == customer.id, col(GroupLink.assignee_id).is_not(None)).distinct()).all())
        users = list(session.exec(select(User).where(col(User.id).in_(ids), User.enabled == True)).all()) if ids else []  # noqa: E712
        if not users:
            raise PermanentError(f"客户{customer_label(customer)}没有可通知的负责人（未分配或负责人已停用）")
        return users

    def apply(self, ctx: ProcessorContext, session: Session, customer: Customer, step: dict) -> Outcome:
        users = self._recipients(session, customer)
        for user in users:
            session.add(Notification(user_id=user.id, title=step["title"], body=step["body"],
                                     link=step["link"] or customer_link(customer.id),
                                     source=f"strategy:{ctx.strategy_id}", created_at=ctx.services.now()))
        names = "、".join(u.display_name or u.username for u in users)
        return Outcome(response={"recipients": [u.username for u in users]},
                       note=f"已通知客户{customer_label(customer)}的负责人 {names}")

    def summary(self, step: dict, outcome: Outcome) -> str:
        return f"通知负责人：{step['title']}"
