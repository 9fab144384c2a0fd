"""What the three 权益 steps (发放积分, 发放优惠券, 抽取盲盒) share: where the award says it came from
and the key that makes it happen once per step (a retried step finds its first award)."""
from __future__ import annotations

from community.errors import CommunityNotFound
from handlers.base import ConfigField, ProcessorContext
from handlers.builtin.crm_customer import render_config
from handlers.errors import PermanentError

REASON_FIELD = ConfigField("reason", "发放原因", help="记入积分/券/抽奖明细，可用 ${变量}；留空时写策略名称")


def award_source(ctx: ProcessorContext) -> str:
    """Stage rewards of a fission campaign are 裂变活动; anything else a strategy gave is 策略发放."""
    return "fission" if ctx.event_code.startswith("fission.") else "processor"


def award_ref(ctx: ProcessorContext) -> str:
    return f"step:{ctx.idempotency_key}"[:100]


def whole_number(value, label: str, low: int = 1) -> int:
    try:
        number = int(float(str(value).strip()))
    except (TypeError, ValueError):
        raise PermanentError(f"{label}应为整数：{value!r}") from None
    if number < low:
        raise PermanentError(f"{label}应不小于 {low}")
    return number


def reason_of(ctx: ProcessorContext, text: str, fallback: str) -> str:
    if (text or "").strip():
        return text.strip()
    return f"{fallback}（策略 #{ctx.strategy_id}）" if ctx.strategy_id else fallback


def referenced(ctx: ProcessorContext, config: dict, session, field: str, label: str, getter, reason_label: str) -> dict:
    """The batch / pool a step names (${变量} allowed), checked to exist, with the step's reason."""
    row_id = whole_number(render_config(config.get(field), ctx.data), label)
    try:
        row = getter(session, row_id)
    except CommunityNotFound:
        raise PermanentError(f"{label.removesuffix('ID')} #{row_id} 不存在") from None
    return {field: row.id, "name": row.name,
            "reason": reason_of(ctx, render_config(config.get("reason"), ctx.data), f"{reason_label}「{row.name}」")}
