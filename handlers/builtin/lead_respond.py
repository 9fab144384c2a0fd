"""线索自动回复: thank the person who left the lead — an SMS or e-mail from a 消息模板 (variables are
the lead's fields: ${name}, ${product} …), or a WeChat friend request with a greeting sent by a
phone (through the risk budget like every device command). Each lead is answered once, and a
returning customer once per reply window of the scene (crm.leads.identify.earlier_reply).

Sending happens outside any write transaction (the SMS outbox, SMTP and the device queue write
on their own), so this step reads the lead, hands the sending to the registered processor
(through the executor's registry, under this step's idempotency key, attempts and history), then
records the answer.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Optional

from crm.errors import CrmError
from crm.leads.identify import earlier_reply
from crm.leads.logs import write_log
from crm.leads.models import Lead
from crm.sales.templates import render_for, variable_names
from handlers.base import Outcome, Processor, ProcessorContext
from handlers.builtin.crm_refs import resolve_template
from handlers.builtin.lead_step import lead_id_of, load_lead, record_failure
from handlers.errors import PermanentError

CHANNEL_LABELS = {"sms": "短信", "email": "邮件", "device": "微信打招呼"}


@dataclass
class Reply:
    lead_id: int
    skip: str = ""  # why nothing is sent
    channel: str = ""
    sender: str = ""  # the registered processor that sends (device.add_friend, email, sms)
    data: Optional[dict] = None
    config: Optional[dict] = None


class RespondLeadProcessor(Processor):
    key = "lead.respond"
    name = "线索·自动回复"
    description = "按获客场景的自动回复设置发送短信/邮件模板，或用微信号发送好友申请打招呼（受风控预算约束）；每条线索只回复一次。"

    def _plan(self, ctx: ProcessorContext) -> Reply:
        with ctx.services.db.read() as session:
            lead, scene = load_lead(session, lead_id_of(ctx))
            if lead is None:
                raise PermanentError(f"线索 {ctx.data.get('lead_id')} 不存在或已删除")
            settings = dict(scene.auto_response or {})
            channel = settings.get("channel") or ""
            if lead.responded_at is not None:
                return Reply(lead.id, "该线索已自动回复过，不重复发送")
            if not channel:
                return Reply(lead.id, "场景未设置自动回复")
            earlier = earlier_reply(session, lead, scene, ctx.services.now())
            if earlier is not None:
                return Reply(lead.id, f"老客户 {earlier[1]} 天内已收到本场景的自动回复（线索 #{earlier[0]}），不重复发送")
            # Every variable a template may use exists (empty when the lead lacks it): a form
            # without 意向产品 still gets its thank-you.
            variables = {v["name"]: "" for v in variable_names(session)}
            variables.update({k: v for k, v in {**dict(ctx.data), **dict(lead.lead_data or {})}.items() if v is not None})
            if channel == "device":
                target = variables.get("wechat") or lead.mobile
                if not target:
                    return Reply(lead.id, "线索没有微信号或手机号，无法微信打招呼")
                return Reply(lead.id, channel=channel, sender="device.add_friend", data=variables,
                             config={"account": settings.get("device_account") or "", "target": str(target),
                                     "greeting": settings.get("device_text") or ""})
            template = resolve_template(session, settings.get("template") or "")
            mobile, email = lead.mobile, lead.email
        try:
            message = render_for(template, variables)
        except CrmError as exc:
            raise PermanentError(exc.message) from exc
        if channel == "email":
            if not email:
                return Reply(lead.id, "线索没有邮箱，未发送邮件")
            return Reply(lead.id, channel=channel, sender="email",
                         data={"to": email, "subject": message["subject"] or template.name, "body": message["body"]},
                         config={"to": "${to}", "subject": "${subject}", "body": "${body}"})
        if not mobile:
            return Reply(lead.id, "线索没有手机号，未发送短信")
        return Reply(lead.id, channel=channel, sender="sms", data={"mobile": mobile, "content": message["body"]},
                     config={"mobile": "${mobile}", "content": "${content}"})

    def render(self, ctx: ProcessorContext, config: dict) -> dict:
        reply = self._plan(ctx)
        if reply.skip:
            return {"lead_id": reply.lead_id, "skip": reply.skip}
        return {"lead_id": reply.lead_id, "channel": reply.channel,
                **ctx.delegate(reply.sender).render(replace(ctx, data=reply.data), reply.config)}

    def run(self, ctx: ProcessorContext, config: dict) -> Outcome:
        try:
            reply = self._plan(ctx)
        except PermanentError as exc:
            record_failure(ctx, lead_id_of(ctx), self.name, exc.message)
            raise
        if reply.skip:
            return Outcome(request={"lead_id": reply.lead_id}, note=reply.skip)
        try:
            outcome = ctx.delegate(reply.sender).run(replace(ctx, data=reply.data), reply.config)
        except PermanentError as exc:
            record_failure(ctx, reply.lead_id, self.name, exc.message)
            raise
        if ctx.dry_run:
            return outcome
        label = CHANNEL_LABELS[reply.channel]
        with ctx.services.db.write() as session:
            row = session.get(Lead, reply.lead_id)
            row.responded_at = ctx.services.now()
            session.add(row)
            write_log(session, row.id, "responded", f"已自动回复（{label}）：{outcome.note}"[:1000],
                      actor=f"strategy:{ctx.strategy_id}")
        outcome.note = f"自动回复（{label}）：{outcome.note}"
        return outcome
