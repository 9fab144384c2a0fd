"""企业微信欢迎语: answers 添加企业微信客户 (wecom.contact_added) with the welcome message, through
externalcontact/send_welcome_msg and the event's WelcomeCode.

WeCom accepts a WelcomeCode once and only within 20 s of the add, so the step belongs in the
immediate part of a strategy; an expired or used code (41051) is permanent (a retry cannot help),
while an unreachable server or system busy is retried. An event without a code (the contact was
added through a 渠道活码 whose own welcome message is set in WeCom) is skipped with that note."""
from __future__ import annotations

from events.placeholders import PlaceholderError, render_message
from handlers.base import ConfigField, Outcome, Processor, ProcessorContext
from handlers.errors import PermanentError, RetryableError
from integrations.errors import IntegrationNotFound, PlatformError
from integrations.wecom.corps import api_client, by_corp_id

INVALID_CODE = {41051, 41096, 40098}


class WecomWelcomeProcessor(Processor):
    key = "wecom.welcome"
    name = "企业微信欢迎语"
    description = "用「添加企业微信客户」事件的 WelcomeCode 给新客户发欢迎语（文字，可附链接）；须在添加后 20 秒内发出。"
    config_fields = (
        ConfigField("text", "欢迎语", kind="textarea", required=True, help="可用 ${name}（客户名称）、${state} 等事件变量"),
        ConfigField("link_title", "链接标题", help="可选：附一条图文链接"),
        ConfigField("link_url", "链接地址", help="https:// 开头"),
    )

    def validate_config(self, config: dict) -> list[str]:
        errors = super().validate_config(config)
        url = str(config.get("link_url") or "").strip()
        if url and not url.startswith(("https://", "http://")):
            errors.append("「链接地址」应以 https:// 开头")
        if url and not str(config.get("link_title") or "").strip():
            errors.append("附链接时「链接标题」不能为空")
        return errors

    def render(self, ctx: ProcessorContext, config: dict) -> dict:
        try:
            text = render_message(str(config.get("text") or ""), ctx.data)
            title = render_message(str(config.get("link_title") or ""), ctx.data)
        except PlaceholderError as exc:
            raise PermanentError(f"变量替换失败：{exc}") from exc
        body = {"welcome_code": str(ctx.data.get("welcome_code") or ""), "text": {"content": text[:4000]}}
        url = str(config.get("link_url") or "").strip()
        if url:
            body["attachments"] = [{"msgtype": "link", "link": {"title": title[:128], "url": url}}]
        return body

    def run(self, ctx: ProcessorContext, config: dict) -> Outcome:
        body = self.render(ctx, config)
        if not body["welcome_code"]:
            return Outcome(request=body, response={"sent": False}, note="事件没有 WelcomeCode（欢迎语由渠道活码发送或已超时），跳过")
        if ctx.dry_run:
            return Outcome(request=body, response={"sent": False}, note="试运行：未发送")
        try:
            with ctx.services.db.read() as session:
                corp = by_corp_id(session, str(ctx.data.get("corp_id") or ""))
                session.expunge(corp)
        except IntegrationNotFound:
            raise PermanentError("事件中的企业 ID 未授权或已停用") from None
        try:
            api_client(ctx.services.settings, corp, "contact").post("/cgi-bin/externalcontact/send_welcome_msg", body)
        except PlatformError as exc:
            if exc.errcode in INVALID_CODE:
                raise PermanentError(f"WelcomeCode 已失效（超过 20 秒或已使用）：{exc}") from exc
            raise RetryableError(str(exc)) from exc
        return Outcome(request=body, response={"sent": True}, note=f"已向 {ctx.data.get('name') or ctx.data.get('external_userid')} 发送欢迎语")
