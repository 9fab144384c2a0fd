"""The events 群活监控 raises — group.inactive (死群 / 发言过少) and group.churning (退群多于入群) —
and their definitions, created on first use in the caller's transaction so the ledger never
stores them as refused for want of a definition."""
from __future__ import annotations

from sqlmodel import Session

from events.definitions import ensure_builtin


def _f(name, type_, label, required=False, remark=""):
    return {"name": name, "type": type_, "label": label, "required": required, "remark": remark}


_FIELDS = [_f("group_id", "number", "群ID", True), _f("group_name", "text", "群名称"),
           _f("chatroom_id", "text", "群聊ID"), _f("account_id", "number", "微信号ID"),
           _f("owner_user_id", "number", "微信号负责人ID"), _f("alert_id", "number", "预警ID", True),
           _f("rule_id", "number", "规则ID"), _f("rule_name", "text", "规则名称"),
           _f("kind", "text", "预警类型", remark="silent 无消息 / low_speakers 发言人数过低 / churning 退群多于入群"),
           _f("detail", "text", "预警说明"), _f("members", "number", "成员数"),
           _f("days", "number", "统计天数"), _f("last_message_at", "datetime", "最后消息时间")]
EVENTS = [
    {"key": "group_inactive", "code": "group.inactive", "name": "群不活跃",
     "remark": "群活监控：群内 N 天无消息，或一段时间内发言人数低于成员数的 X%（每个预警周期一次）", "fields": _FIELDS},
    {"key": "group_churning", "code": "group.churning", "name": "群成员流失",
     "remark": "群活监控：N 天内退群人数多于入群人数（每个预警周期一次）", "fields": _FIELDS},
]
KEYS = tuple(e["key"] for e in EVENTS)


def ensure_definitions(session: Session) -> None:
    ensure_builtin(session, KEYS, extra=EVENTS)
