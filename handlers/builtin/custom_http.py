"""自定义处理器: an HTTP processor registered in 处理器注册中心, bound to its definition.

The definition fixes the method, URL, headers and body. Each parameter marked "固定" keeps
the definition's value; the others become fields of the step form, so a strategy can fill
them (with ${变量}) while the definition's value is the default.
"""
from __future__ import annotations

from events.placeholders import find_variables
from handlers.base import ConfigField, Outcome, ProcessorContext
from handlers.builtin.http import HttpProcessor
from handlers.definitions import GONE_REASON, disable_gone
from handlers.errors import PermanentError
from handlers.models import ProcessorDefinition


class CustomHttpProcessor(HttpProcessor):
    builtin = False

    def __init__(self, definition: ProcessorDefinition):
        # A detached snapshot: the registry caches this object until the definition changes.
        self.definition = definition.model_copy()
        self.key = definition.key
        self.name = definition.name
        self.description = definition.remark or f"自定义 HTTP 处理器：{definition.method} {definition.url}"
        self.retry_schedule = definition.retry_schedule or ""
        self._enabled = bool(definition.enabled)
        self.disabled_reason = definition.disabled_reason or ""
        self.config_fields = tuple(
            ConfigField(name=p["name"], label=p.get("remark") or p["name"], default=p.get("value", ""),
                        help=f"默认值：{p.get('value', '')}" if p.get("value") else "")
            for p in definition.params or [] if isinstance(p, dict) and p.get("name") and not p.get("fixed")
        )

    @property
    def enabled(self) -> bool:
        return self._enabled

    def validate_config(self, config: dict) -> list[str]:
        # Method, URL and body were validated when the definition was saved; only the step's
        # own fields are checked here.
        return super(HttpProcessor, self).validate_config(config)

    def http_config(self, config: dict) -> dict:
        d = self.definition
        params = []
        for p in d.params or []:
            if not isinstance(p, dict) or not p.get("name"):
                continue
            value = p.get("value", "")
            if not p.get("fixed") and config.get(p["name"]) not in (None, ""):
                value = config[p["name"]]
            params.append({"name": p["name"], "value": value})
        return {"method": d.method, "url": d.url, "params": params, "headers": d.headers or [],
                "body": d.body or "", "timeout_seconds": d.timeout_seconds}

    def variables(self, config: dict) -> set[str]:
        return find_variables(self.http_config(config))

    def run(self, ctx: ProcessorContext, config: dict) -> Outcome:
        if not self.enabled:
            why = f"已停用：{self.disabled_reason}" if self.disabled_reason else "已停用"
            raise PermanentError(f"处理器「{self.name}」{why}，请在处理器注册中心启用后重放")
        return super().run(ctx, config)

    def gone(self, ctx: ProcessorContext, request: dict, response: dict) -> PermanentError:
        """The target answered 410 Gone: the definition is disabled (persisted, admins told) so
        later steps stop calling an endpoint that said it is gone for good."""
        self._enabled, self.disabled_reason = False, GONE_REASON  # this process's cached copy stops at once
        if not ctx.dry_run:
            disable_gone(ctx.services.db, self.definition.key, GONE_REASON, ctx.services.now())
        return PermanentError(f"处理器「{self.name}」已停用：{GONE_REASON}", request=request, response=response)
