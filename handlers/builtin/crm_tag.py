"""打标签 / 移除标签: give the event's customer a tag, or take one away.

Tags are named by ID or name (several separated by commas; ${tagName} from the event works
too). Only global manual tags can be given by a strategy — an auto tag belongs to its rule and
a personal tag to its owner. The change lands in 标签历史 with source 策略, like any other.
Giving a tag the customer already has (or removing one they do not have) changes nothing.
Events may arrive late: a tag change whose event happened before a later add/remove of the same
tag is skipped and the step says so (已被更晚发生的事件取代), so the last change to happen wins.
"""
from __future__ import annotations

from sqlmodel import Session

from crm.customers.models import Customer
from crm.tags.apply import apply_tags, claim_tags, remove_tags
from crm.tags.models import Tag
from events.ordering import superseded_note
from handlers.base import ConfigField, Outcome, ProcessorContext
from handlers.builtin.crm_customer import LOOKUP_FIELDS, CustomerStep, customer_label, render_config
from handlers.builtin.crm_refs import resolve_tags
from handlers.builtin.event_order import occurred_at

TAGS_FIELD = ConfigField("tags", "标签", required=True,
                         help="标签ID或标签名称，多个用逗号分隔；也可填 ${tagName} 等事件变量（标签ID见「标签管理」）")


class AddTagProcessor(CustomerStep):
    key = "crm.add_tag"
    name = "打标签"
    description = "为事件对应的客户添加全局手动标签（按客户ID、手机号或邮箱查找客户），记入标签历史。"
    config_fields = LOOKUP_FIELDS + (TAGS_FIELD,)
    removing = False

    def settings(self, ctx: ProcessorContext, config: dict, session: Session) -> dict:
        tags = resolve_tags(session, render_config(config.get("tags"), ctx.data))
        return {"tag_ids": [t.id for t in tags], "tags": [t.name for t in tags]}

    def apply(self, ctx: ProcessorContext, session: Session, customer: Customer, step: dict) -> Outcome:
        change = remove_tags if self.removing else apply_tags
        when = occurred_at(ctx, session)
        tags = [session.get(Tag, tag_id) for tag_id in step["tag_ids"]]
        fresh, later = claim_tags(session, customer.id, tags, when, ctx.event_record_id or None)
        count = change(session, [customer.id], [t.id for t in fresh], operator_id=None, source="strategy",
                       now=ctx.services.now(), tz=ctx.services.settings.timezone, occurred_at=when) if fresh else 0
        names = "、".join(t.name for t in fresh)
        verb = "移除标签" if self.removing else "添加标签"
        notes = []
        if count:
            notes.append(f"已为客户{customer_label(customer)}{verb}：{names}")
        elif fresh:
            notes.append(f"客户{customer_label(customer)}{'没有' if self.removing else '已有'}这些标签，无需{verb[:2]}：{names}")
        for tag in tags:
            if tag.id in later:
                notes.append(superseded_note(f"{verb}「{tag.name}」", later[tag.id], ctx.services.settings.timezone))
        response = {"removed" if self.removing else "added": count}
        if later:
            response["superseded"] = [t.name for t in tags if t.id in later]
        return Outcome(response=response, note="；".join(notes))

    def summary(self, step: dict, outcome: Outcome) -> str:
        return f"{'移除标签' if self.removing else '添加标签'} {'、'.join(step['tags'])}"


class RemoveTagProcessor(AddTagProcessor):
    key = "crm.remove_tag"
    name = "移除标签"
    description = "移除事件对应客户的全局手动标签（按客户ID、手机号或邮箱查找客户），记入标签历史。"
    removing = True
