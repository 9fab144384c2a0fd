"""短信推送 (图 78): a salesperson ticks customers in 客户档案 (or opens one customer's detail),
picks an SMS 消息模板, fills the template's event variables by hand (the ${code} of a 验证码
template: there is no event to take them from), previews, and sends. This module decides who
gets what: the customers the sender may see (another's customer is dropped like an unknown id),
each one's text rendered from the template in the sandbox, and the ones refused before sending
(no mobile, rendering failed) with the reason; a number that is no mainland mobile is the SMS
processor's to refuse, as for every other send. The sending itself is the
engine's (engine.sms_push): the SMS processor with its outbox and per-number caps.

Functions take the caller's Session and never commit.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

from sqlmodel import Session, col, select

from crm.customers.models import Customer
from crm.errors import CrmError, NotFound
from crm.sales.models import MessageTemplate
from crm.sales.templates import customer_data, render_for, sender_variables
from crm.scope import Viewer, visible_ids

MAX_CUSTOMERS = 200  # one push from the list; larger audiences are 定向营销's job
MAX_VALUE_CHARS = 200
TOKEN_RE = re.compile(r"^[0-9a-f]{32}$")



@dataclass
class Message:
    customer_id: int
    name: str
    mobile: str
    content: str


@dataclass
class Prepared:
    template: MessageTemplate
    messages: list[Message] = field(default_factory=list)
    refused: list[dict] = field(default_factory=list)  # {"customer_id", "name", "reason"}


def sms_templates(session: Session) -> list[MessageTemplate]:
    """The enabled SMS templates a sender may pick, by name."""
    return list(session.exec(select(MessageTemplate).where(MessageTemplate.channel == "sms",
                                                           MessageTemplate.enabled == True)  # noqa: E712
                             .order_by(MessageTemplate.name)))


def selected(session: Session, viewer: Viewer, ids) -> list[Customer]:
    """The ticked customers the viewer may see, in the order ticked; CrmError when none or too many."""
    try:
        wanted = list(dict.fromkeys(int(i) for i in ids))
    except (TypeError, ValueError):
        raise CrmError("客户选择有误", {"ids": "客户选择有误"}) from None
    if len(wanted) > MAX_CUSTOMERS:
        raise CrmError(f"一次最多推送 {MAX_CUSTOMERS} 位客户；更多客户请使用定向营销",
                       {"ids": f"已选 {len(wanted)} 位，超过 {MAX_CUSTOMERS} 位"})
    ids = visible_ids(session, viewer, Customer, wanted)
    if not ids:
        raise CrmError("请先勾选客户", {"ids": "请先勾选客户"})
    rows = {c.id: c for c in session.exec(select(Customer).where(col(Customer.id).in_(ids)))}
    return [rows[i] for i in ids if i in rows]


def template_for_push(session: Session, template_id) -> MessageTemplate:
    try:
        tpl = session.get(MessageTemplate, int(template_id or 0))
    except (TypeError, ValueError):
        tpl = None
    if tpl is None or tpl.channel != "sms" or not tpl.enabled:
        raise CrmError("请选择一个启用的短信模板", {"template_id": "请选择一个启用的短信模板"})
    return tpl


def clean_values(session: Session, template: MessageTemplate, raw: dict) -> dict:
    """The sender's values for the template's event variables; CrmError naming the missing ones."""
    values, errors = {}, {}
    for var in sender_variables(session, template):
        value = str(raw.get(var["name"]) or "").strip()
        if not value:
            errors["var_" + var["name"]] = f"请填写 {var['label'].split('（')[0]}（${{{var['name']}}}）"
        elif len(value) > MAX_VALUE_CHARS:
            errors["var_" + var["name"]] = f"{var['name']} 不能超过 {MAX_VALUE_CHARS} 字"
        values[var["name"]] = value
    if errors:
        raise CrmError("请填写模板变量：" + "；".join(errors.values()), errors)
    return values


def prepare(session: Session, viewer: Viewer, ids, template_id, raw_values: dict, tz: Optional[str] = None) -> Prepared:
    """Each visible customer's rendered text, or the reason they are refused before sending."""
    customers = selected(session, viewer, ids)
    template = template_for_push(session, template_id)
    values = clean_values(session, template, raw_values)
    out = Prepared(template=template)
    for customer in customers:
        name = customer.name or f"#{customer.id}"
        mobile = (customer.mobile or "").strip()
        if not mobile:
            out.refused.append({"customer_id": customer.id, "name": name, "reason": "客户没有手机号"})
            continue
        try:
            text = render_for(template, {**values, **customer_data(session, customer, tz)})["body"].strip()
        except CrmError as exc:
            out.refused.append({"customer_id": customer.id, "name": name, "reason": exc.message})
            continue
        if not text:
            out.refused.append({"customer_id": customer.id, "name": name, "reason": "渲染后的短信内容为空"})
            continue
        out.messages.append(Message(customer.id, name, mobile, text))
    return out


def check_token(token: str) -> str:
    """The push's id (chosen when the form was opened, so a double click sends once)."""
    token = str(token or "")
    if not TOKEN_RE.match(token):
        raise NotFound("推送记录不存在")
    return token
