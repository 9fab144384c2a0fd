"""发送模板消息: an SMS or e-mail to the event's customer, written from a 消息模板 (消息模板管理)
with the customer's own fields (${name}, ${mobile}, custom fields…), exactly as 定向营销 renders
it. The sending itself is the registered 发送短信 / 发送邮件 processor's (found through the
registry the executor runs this step from), under this step's idempotency key, attempt and
history, so the message is recorded in the outbox and never sent twice.
"""
from __future__ import annotations

from dataclasses import replace

from crm.errors import CrmError
from crm.sales.templates import customer_data, render_for
from handlers.base import ConfigField, Outcome, Processor, ProcessorContext
from handlers.builtin.crm_customer import (LOOKUP_FIELDS, already_done, customer_label, find_customer, lookup_keys,
                                           mark_done, render_config, describe_keys)
from handlers.builtin.crm_refs import resolve_template
from handlers.errors import PermanentError

CHANNEL_LABELS = {"sms": "短信", "email": "邮件"}


class SendTemplateProcessor(Processor):
    key = "crm.send_template"
    name = "发送模板消息"
    description = "用消息模板给事件对应的客户发送短信或邮件，模板中的 ${变量} 取自客户档案字段和事件数据（如 ${code}）。"
    config_fields = LOOKUP_FIELDS + (
        ConfigField("template", "消息模板", required=True, help="模板编码或模板ID（见「消息模板管理」）；短信或邮件由模板决定"),
    )

    def _prepare(self, ctx: ProcessorContext, config: dict):
        """(template, customer, the delegate step's data and config) — all read in one go."""
        with ctx.services.db.read() as session:
            template = resolve_template(session, render_config(config.get("template"), ctx.data))
            customer = find_customer(session, lookup_keys(ctx, config))
            # 变量来源事件: the event's own fields (${code}) fill the template beside the customer's.
            variables = {**ctx.data, **customer_data(session, customer, ctx.services.settings.timezone)}
        try:
            message = render_for(template, variables)
        except CrmError as exc:
            raise PermanentError(exc.message) from exc
        # The rendered text travels as data behind a plain ${…}, so it is never rendered twice.
        if template.channel == "email":
            if not customer.email:
                raise PermanentError(f"客户{customer_label(customer)}没有邮箱，无法发送邮件")
            data = {"to": customer.email, "subject": message["subject"] or template.name, "body": message["body"]}
            return template, customer, ctx.delegate("email"), data, {"to": "${to}", "subject": "${subject}", "body": "${body}"}
        if not customer.mobile:
            raise PermanentError(f"客户{customer_label(customer)}没有手机号，无法发送短信")
        data = {"mobile": customer.mobile, "content": message["body"]}
        return template, customer, ctx.delegate("sms"), data, {"mobile": "${mobile}", "content": "${content}"}

    def render(self, ctx: ProcessorContext, config: dict) -> dict:
        template, customer, sender, data, sub_config = self._prepare(ctx, config)
        return {"customer": describe_keys(lookup_keys(ctx, config)), "template": template.name,
                **sender.render(replace(ctx, data=data), sub_config)}

    def run(self, ctx: ProcessorContext, config: dict) -> Outcome:
        template, customer, sender, data, sub_config = self._prepare(ctx, config)
        outcome = sender.run(replace(ctx, data=data), sub_config)
        outcome.request = {"customer_id": customer.id, "customer_name": customer.name, "template": template.name,
                           **outcome.request}
        if ctx.dry_run:
            return outcome
        with ctx.services.db.write() as session:
            if not already_done(session, ctx, customer.id):
                mark_done(session, ctx, customer.id, f"发送{CHANNEL_LABELS[template.channel]}「{template.name}」")
        outcome.note = f"模板「{template.name}」：{outcome.note}"
        return outcome
