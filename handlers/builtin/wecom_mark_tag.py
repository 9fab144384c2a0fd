"""企业微信打标签: put corp tags on the event's customer in WeCom (the staff see them in the chat
sidebar of WeCom itself). Tags are named as ours (ID or name) and must be mapped to corp tags
(「企业微信·标签组」 categories, see 企业微信 · 标签映射). Pair it with 打标签 to tag the customer here
too. A customer with no WeCom contact is skipped with that note; WeCom errors are retried."""
from __future__ import annotations

from handlers.base import ConfigField, Outcome, Processor, ProcessorContext
from handlers.builtin.crm_customer import render_config
from handlers.builtin.crm_refs import resolve_tags
from handlers.errors import PermanentError, RetryableError
from integrations.errors import IntegrationError, PlatformError
from integrations.wecom import tagging


class WecomMarkTagProcessor(Processor):
    key = "wecom.mark_tag"
    name = "企业微信打标签"
    description = "给事件对应客户的企业微信外部联系人打上企业标签（本系统标签须已映射到企业微信标签）。"
    config_fields = (ConfigField("tags", "标签", required=True, help="本系统标签ID或名称，多个用逗号分隔"),)

    def render(self, ctx: ProcessorContext, config: dict) -> dict:
        return {"customer_id": ctx.data.get("customer_id"), "tags": render_config(config.get("tags"), ctx.data)}

    def run(self, ctx: ProcessorContext, config: dict) -> Outcome:
        request = self.render(ctx, config)
        try:
            customer_id = int(request["customer_id"])
        except (TypeError, ValueError):
            raise PermanentError("事件中没有客户ID（customer_id）") from None
        with ctx.services.db.read() as session:
            tags = resolve_tags(session, request["tags"])
            try:
                calls = tagging.plan(session, customer_id, [t.id for t in tags])
            except IntegrationError as exc:
                raise PermanentError(str(exc)) from exc
            for call in calls:
                session.expunge(call["corp"])
        if not calls:
            return Outcome(request=request, response={"marked": 0}, note="客户没有企业微信联系人，或已有这些标签")
        if ctx.dry_run:
            return Outcome(request=request, response={"marked": 0}, note=f"试运行：将调用 mark_tag {len(calls)} 次")
        try:
            count = tagging.mark(ctx.services.settings, calls)
        except PlatformError as exc:
            raise RetryableError(str(exc)) from exc
        return Outcome(request={**request, "calls": [c["body"] for c in calls]}, response={"marked": count},
                       note=f"已在企业微信打标签：{'、'.join(t.name for t in tags)}")
