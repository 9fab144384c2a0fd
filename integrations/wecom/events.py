"""The ledger events 企业微信 callbacks become (source "wecom"), registered on first use so a
strategy can be bound to them: 添加企业微信客户 (with its 渠道活码 State and the WelcomeCode a
欢迎语 step needs), 编辑, 删除, 客户群变更."""
from __future__ import annotations

from sqlmodel import Session

from events.definitions import ensure_builtin


def _f(name, type_, label, required=False, remark=""):
    return {"name": name, "type": type_, "label": label, "required": required, "remark": remark}


_CONTACT = [_f("customer_id", "number", "客户ID", True), _f("external_userid", "text", "外部联系人ID", True),
            _f("user_id", "text", "企业微信员工 UserID", True), _f("owner_id", "number", "对应的系统用户ID"),
            _f("name", "text", "客户名称"), _f("corp_id", "text", "企业ID")]
WECOM_EVENTS: list[dict] = [
    {"key": "wecom_contact_added", "code": "wecom.contact_added", "name": "添加企业微信客户",
     "remark": "员工添加了外部联系人（渠道活码的 State 可区分来源；WelcomeCode 供发送欢迎语，20 秒内有效）",
     "fields": _CONTACT + [_f("state", "text", "渠道 State"), _f("welcome_code", "text", "欢迎语 code"),
                           _f("customer_created", "boolean", "是否新建客户")]},
    {"key": "wecom_contact_edited", "code": "wecom.contact_edited", "name": "编辑企业微信客户",
     "remark": "员工修改了外部联系人的备注、标签等", "fields": _CONTACT},
    {"key": "wecom_contact_deleted", "code": "wecom.contact_deleted", "name": "企业微信客户删除",
     "remark": "员工删除了客户（del_external_contact）或客户删除了员工（del_follow_user）",
     "fields": _CONTACT + [_f("by_customer", "boolean", "是否客户删除员工"), _f("remaining", "number", "仍添加该客户的员工数")]},
    {"key": "wecom_chat_changed", "code": "wecom.chat_changed", "name": "企业微信客户群变更",
     "remark": "客户群创建、变更（成员入群/退群、改名、公告）或解散",
     "fields": [_f("chat_id", "text", "群ID", True), _f("name", "text", "群名称"), _f("change_type", "text", "变更类型",
                remark="create/update/dismiss"), _f("update_detail", "text", "变更详情"), _f("member_count", "number", "成员数"),
                _f("owner", "text", "群主 UserID"), _f("corp_id", "text", "企业ID")]},
]
WECOM_EVENT_KEYS = tuple(e["key"] for e in WECOM_EVENTS)


def ensure_definitions(session: Session) -> None:
    ensure_builtin(session, WECOM_EVENT_KEYS, extra=WECOM_EVENTS)
