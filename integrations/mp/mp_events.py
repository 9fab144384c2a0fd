"""The events a 公众号 puts into the ledger, so strategies act on fans: a message (关键词回复, 待跟进),
a subscription (欢迎语, 打标签), an unsubscription (流失跟进) and a menu click. Registered on first use
(events.definitions.ensure_builtin with these specs), stored through crm.events_out.emit."""
from __future__ import annotations

from sqlmodel import Session

from crm.events_out import emit
from events.definitions import ensure_builtin


def _f(name, type_, label, required=False, remark=""):
    return {"name": name, "type": type_, "label": label, "required": required, "remark": remark}


_FAN = [_f("account_id", "number", "公众号ID", True), _f("appid", "text", "公众号AppID"),
        _f("openid", "text", "粉丝OpenID", True), _f("unionid", "text", "粉丝UnionID"),
        _f("customer_id", "number", "客户ID", remark="粉丝已绑定客户时才有"),
        _f("assignee_id", "number", "接待客服ID")]

EVENTS = {
    "mp.message": {"key": "mp_message", "code": "mp.message", "name": "公众号收到消息",
                   "remark": "粉丝给公众号发来消息（文本、图片、语音、视频、链接、位置）",
                   "fields": _FAN + [_f("msg_type", "text", "消息类型", remark="text/image/voice/video/link/location…"),
                                     _f("text", "text", "消息内容"), _f("msg_id", "text", "消息ID"),
                                     _f("conversation_id", "number", "会话ID")]},
    "mp.subscribe": {"key": "mp_subscribe", "code": "mp.subscribe", "name": "关注公众号",
                     "remark": "粉丝关注了公众号（含扫带参数二维码关注）",
                     "fields": _FAN + [_f("scene", "text", "关注场景值", remark="扫码关注时为二维码参数")]},
    "mp.unsubscribe": {"key": "mp_unsubscribe", "code": "mp.unsubscribe", "name": "取消关注公众号",
                       "remark": "粉丝取消关注了公众号", "fields": list(_FAN)},
    "mp.menu_click": {"key": "mp_menu_click", "code": "mp.menu_click", "name": "点击公众号菜单",
                      "remark": "粉丝点击了公众号自定义菜单（CLICK 事件）",
                      "fields": _FAN + [_f("event_key", "text", "菜单KEY", True)]},
}


def emit_mp(session: Session, code: str, data: dict, event_id: str, now) -> None:
    spec = EVENTS[code]
    ensure_builtin(session, [spec["key"]], extra=[spec])
    emit(session, code, data, source="mp", event_id=event_id, now=now)
