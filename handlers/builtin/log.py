"""写日志: a structured log line for tracing a strategy, with phones and e-mails masked.

Useful while building a strategy: see that it fired and with which data, without sending
anything to a customer.
"""
from __future__ import annotations

import logging

from config.pii import mask_text
from events.placeholders import PlaceholderError, render_message
from handlers.base import ConfigField, Outcome, Processor, ProcessorContext
from handlers.errors import PermanentError

LOGGER = logging.getLogger("cunkebao.strategy")
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


class LogProcessor(Processor):
    key = "log"
    external = False  # a log line; re-running it after a crash harms nothing
    inline = True  # nothing but the log line: settled while its event is dispatched
    name = "写日志"
    description = "把一行日志写入系统日志（手机号、邮箱自动打码），常用于调试策略。"
    config_fields = (
        ConfigField("message", "日志内容", kind="textarea", required=True),
        ConfigField("level", "级别", kind="select", choices=LEVELS, default="INFO", templated=False),
    )

    def validate_config(self, config: dict) -> list[str]:
        errors = super().validate_config(config)
        if str(config.get("level") or "INFO").upper() not in LEVELS:
            errors.append(f"「级别」只能是 {'/'.join(LEVELS)}")
        return errors

    def render(self, ctx: ProcessorContext, config: dict) -> dict:
        try:
            message = render_message(str(config.get("message") or ""), ctx.data)
        except PlaceholderError as exc:
            raise PermanentError(f"变量替换失败：{exc}") from exc
        level = str(config.get("level") or "INFO").upper()
        if level not in LEVELS:
            raise PermanentError(f"不支持的日志级别：{level}")
        return {"level": level, "message": mask_text(message)}

    def run(self, ctx: ProcessorContext, config: dict) -> Outcome:
        rendered = self.render(ctx, config)
        if not ctx.dry_run:
            LOGGER.log(getattr(logging, rendered["level"]), rendered["message"], extra={
                "event_code": ctx.event_code, "strategy_id": ctx.strategy_id, "task_id": ctx.task_id,
                "event_record_id": ctx.event_record_id, "idempotency_key": ctx.idempotency_key})
        return Outcome(request=rendered, response={"logged": not ctx.dry_run}, note=rendered["message"][:200])
