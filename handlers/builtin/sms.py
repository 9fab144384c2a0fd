"""发送短信: a text to the customer's mobile, through the configured SMS channel.

The number is cleaned after ${变量} are filled (+86, spaces, dashes, full-width digits) and
must then be an 11-digit mainland mobile. Every message is recorded (短信发件箱); a retried
step whose message was already handed over does not send it again, and no number gets more
than the per-number caps allow (handlers.sms_caps).
"""
from __future__ import annotations

import re
import unicodedata
from typing import Optional

from config.pii import fold_digits, mask_mobile
from events.placeholders import PlaceholderError, render_message, render_text
from handlers.base import ConfigField, Outcome, Processor, ProcessorContext
from handlers.builtin.delivery_record import FAILED, replay_outcome, save
from handlers.builtin.http import DRY_RUN_NOTE
from handlers.errors import PermanentError, ProcessorError
from handlers.models import SmsMessage
from handlers.sms_caps import reserve
from handlers.sms_providers import get_provider

MOBILE_RE = re.compile(r"1[3-9][0-9]{9}")
_SEPARATORS_RE = re.compile(r"[\s\-()（）]")
MAX_CONTENT_CHARS = 1000


def normalize_mobile(raw: str) -> Optional[str]:
    """'+86 138-0013-8000', '８６１３８００１３８０００' → '13800138000'; None if not a mainland mobile."""
    text = _SEPARATORS_RE.sub("", fold_digits(unicodedata.normalize("NFKC", str(raw or ""))))
    for prefix in ("+86", "0086"):
        if text.startswith(prefix):
            text = text[len(prefix):]
            break
    else:
        if text.startswith("86") and len(text) == 13:
            text = text[2:]
    return text if MOBILE_RE.fullmatch(text) else None


class SmsProcessor(Processor):
    key = "sms"
    name = "发送短信"
    description = "向手机号发送短信，内容可使用 ${变量}；通道由系统设置决定（默认只记录到短信发件箱）。"
    config_fields = (
        ConfigField("mobile", "手机号", required=True, default="${mobile}", help="通常填 ${mobile}"),
        ConfigField("content", "短信内容", kind="textarea", required=True,
                    help=f"不超过 {MAX_CONTENT_CHARS} 字，可使用 ${{变量}}"),
    )

    def render(self, ctx: ProcessorContext, config: dict) -> dict:
        try:
            raw = render_text(str(config.get("mobile") or "${mobile}"), ctx.data)
            content = render_message(str(config.get("content") or ""), ctx.data).strip()
        except PlaceholderError as exc:
            raise PermanentError(f"变量替换失败：{exc}") from exc
        mobile = normalize_mobile(raw)
        if mobile is None:
            raise PermanentError(f"手机号「{mask_mobile(str(raw))}」不是有效的中国大陆手机号")
        if not content:
            raise PermanentError("短信内容为空")
        if len(content) > MAX_CONTENT_CHARS:
            raise PermanentError(f"短信内容 {len(content)} 字，超过 {MAX_CONTENT_CHARS} 字上限")
        return {"mobile": mobile, "content": content,
                "provider": (ctx.services.settings.sms_provider or "outbox")}

    def run(self, ctx: ProcessorContext, config: dict) -> Outcome:
        rendered = self.render(ctx, config)
        shown = {**rendered, "mobile": mask_mobile(rendered["mobile"])}
        if ctx.dry_run:
            return Outcome(request=shown, note=DRY_RUN_NOTE)
        services = ctx.services
        earlier = replay_outcome(services.db, SmsMessage, ctx.idempotency_key, shown, "sms_id", "短信")
        if earlier is not None:
            return earlier
        provider = get_provider(services.settings)
        row = dict(mobile=rendered["mobile"], content=rendered["content"], provider=provider.key,
                   created_at=services.now())
        try:
            reserve(services.db, services.settings, ctx.idempotency_key, shown["mobile"], **row)
        except ProcessorError as exc:  # over a per-number cap: deferred or refused, never sent
            exc.request = shown
            raise
        try:
            result = provider.send(services, rendered["mobile"], rendered["content"], ctx.idempotency_key)
        except ProcessorError as exc:
            save(services.db, SmsMessage, ctx.idempotency_key, status=FAILED,
                 provider_response=exc.message[:2000], **row)
            exc.request = shown
            raise
        saved = save(services.db, SmsMessage, ctx.idempotency_key, status=result.status,
                     provider_response=result.provider_response, **row)
        note = "已记录到短信发件箱" if result.status == "outbox" else f"已通过{provider.name}发送"
        return Outcome(request=shown, response={"sms_id": saved.id, "status": saved.status}, note=note)
