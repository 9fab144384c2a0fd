"""The ${变量} a 快捷回复 may use and their values for one customer. Built on the 消息模板 fields
(crm.sales.templates.customer_data, rendered by events.placeholders in the Jinja sandbox: a reply
reads values, never calls into the server) plus what a chat knows: the friend's nickname, the
owner's name and the company. Contact fields (手机号, 邮箱) are left out: a reply is seen by staff of
other departments and goes into a chat box, where a sealed number must not appear; raw ids too."""
from __future__ import annotations

from typing import Optional

from sqlmodel import Session

from conversations.errors import ConversationError
from crm.customers.fieldset import SEALED_FIELDS, customer_fields
from crm.customers.models import Company, Customer
from crm.people.models import User
from crm.sales.templates import customer_data
from devices.models import Friend
from events.placeholders import PlaceholderError, find_variables, render_message

HIDDEN = set(SEALED_FIELDS) | {"company_id", "owner_id"}
CHAT_VARIABLES = [{"name": "nickname", "label": "微信昵称（备注优先）"}, {"name": "owner", "label": "负责人姓名"},
                  {"name": "company", "label": "公司名称"}]


def variable_names(session: Session) -> list[dict]:
    """{"name", "label"} of every variable a reply may use (the editor's list)."""
    fields = [{"name": f["name"], "label": f["label"]} for f in customer_fields(session) if f["name"] not in HIDDEN]
    return fields + CHAT_VARIABLES


def check(session: Session, text: str) -> set[str]:
    """The variables `text` uses; ConversationError naming the unknown ones (or the syntax error)."""
    try:
        used = find_variables(text or "")
    except PlaceholderError as exc:
        raise ConversationError(f"话术格式有误：{exc}", {"text": str(exc)}) from None
    unknown = sorted(used - {v["name"] for v in variable_names(session)})
    if unknown:
        names = "、".join("${" + n + "}" for n in unknown)
        raise ConversationError(f"话术使用了不存在的变量：{names}", {"text": f"未知变量：{names}"})
    # A trial render with sample values: what the sandbox refuses (attribute tricks, filters that
    # fail on text) is refused now, not when a salesperson picks the reply in a chat.
    try:
        render_message(text or "", {v["name"]: "示例" for v in variable_names(session)})
    except PlaceholderError as exc:
        raise ConversationError(f"话术格式有误：{exc}", {"text": str(exc)}) from None
    return used


def values(session: Session, customer: Optional[Customer], friend: Optional[Friend] = None) -> dict:
    """The variables for one customer (and the friend the chat is with); every name present, unset
    ones empty, so a reply used for a friend without a linked customer still renders."""
    data = {v["name"]: "" for v in variable_names(session)}
    if customer is not None:
        known = customer_data(session, customer)  # times in the configured zone
        data.update({k: v for k, v in known.items() if k not in HIDDEN and k in data})
        owner = session.get(User, customer.owner_id) if customer.owner_id else None
        data["owner"] = (owner.display_name or owner.username) if owner is not None else ""
        company = session.get(Company, customer.company_id) if customer.company_id else None
        data["company"] = company.name if company is not None else ""
    if friend is not None:
        data["nickname"] = friend.remark or friend.nickname
        if not data.get("name"):
            data["name"] = friend.remark or friend.nickname
    elif customer is not None:
        data["nickname"] = customer.name or ""
    return {k: ("" if v is None else v) for k, v in data.items()}


def render(text: str, data: dict) -> str:
    try:
        return render_message(text or "", data)
    except PlaceholderError as exc:
        raise ConversationError(f"话术渲染失败：{exc}", {"text": str(exc)}) from None
