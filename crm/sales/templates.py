"""消息模板管理: SMS and e-mail texts with ${变量} filled from the customer's record — built-in
fields (${name}, ${mobile}, ${city}…) and custom fields by their key. A template may only use
variables the customer record has, so a typo is refused when saving, not discovered when a
marketing run sends "您好，${nmae}" to ten thousand people. Rendering runs in the Jinja sandbox
(events.placeholders): a template can read values, never call into the server.

Functions take the caller's Session and never commit.
"""
from __future__ import annotations

import re
from datetime import date, datetime
from typing import Optional

from sqlmodel import Session, col, select

from config.clock import format_local
from crm.customers.fieldset import customer_fields
from crm.customers.models import Customer
from crm.errors import CrmError, NotFound
from crm.leads.fields import STANDARD_FIELDS
from crm.sales.models import MarketingPlan, MessageTemplate
from crm.scope import Viewer, customers as customer_scope, load
from events.definitions import get_by_code
from events.placeholders import PlaceholderError, find_variables, render_message

CHANNELS = {"sms": "短信", "email": "邮件"}
CODE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]{0,63}$")
SMS_MAX_CHARS = 1000
DEFAULT_TZ: str | None = None  # the configured zone (config.clock.zone)
# Shown by 预览 when the database has no customer yet.
SAMPLE_CUSTOMER = {"name": "张三", "mobile": "13800138000", "email": "zhangsan@example.com", "wechat_id": "zhangsan",
                   "gender": "男", "city": "上海", "source": "官网", "tag_score": 30, "follow_count": 2}


def get_template(session: Session, template_id: int) -> MessageTemplate:
    tpl = session.get(MessageTemplate, template_id)
    if tpl is None:
        raise NotFound("消息模板不存在或已删除")
    return tpl


def list_templates(session: Session, channel: Optional[str] = None, enabled_only: bool = False) -> list[MessageTemplate]:
    stmt = select(MessageTemplate).order_by(MessageTemplate.id.desc())
    if channel:
        stmt = stmt.where(MessageTemplate.channel == channel)
    if enabled_only:
        stmt = stmt.where(MessageTemplate.enabled == True)  # noqa: E712
    return list(session.exec(stmt))


# Filled by 商品定向营销 (a plan promoting a product); other sends leave them empty.
PRODUCT_VARIABLES = [{"name": "product_name", "label": "商品名称（仅商品定向营销）"},
                     {"name": "product_price", "label": "商品价格（仅商品定向营销）"},
                     {"name": "product_link", "label": "商品链接（仅商品定向营销）"}]
SAMPLE_PRODUCT = {"product_name": "有机奶粉 3 段", "product_price": "¥129.00", "product_link": "https://shop.example.com/p/1"}


def _lead_only(session: Session) -> list[dict]:
    """Lead fields (意向产品, 需求描述 …) a 线索自动回复 can use; customer sends leave them out."""
    customer = {f["name"] for f in customer_fields(session)}
    return [{"name": f["name"], "label": f"{f['label']}（仅线索自动回复）"} for f in STANDARD_FIELDS
            if f["name"] not in customer]


def event_variables(session: Session, event_code: str) -> list[dict]:
    """变量来源事件: the fields of that event which are not customer fields ({"name", "label"})."""
    definition = get_by_code(session, event_code) if event_code else None
    if definition is None:
        return []
    customer = {f["name"] for f in customer_fields(session)}
    return [{"name": f["name"], "label": f"{f.get('label') or f['name']}（来自事件 {definition.name}）"}
            for f in definition.fields or [] if f.get("name") and f["name"] not in customer]


def variable_names(session: Session, event_code: str = "") -> list[dict]:
    """The variables a template may use (for the editor's 插入变量 list)."""
    return ([{"name": f["name"], "label": f["label"]} for f in customer_fields(session)] + _lead_only(session)
            + PRODUCT_VARIABLES + event_variables(session, event_code))


def sender_variables(session: Session, template: MessageTemplate) -> list[dict]:
    """The event variables a template uses, which a person sending it by hand (短信推送) fills in
    (the 验证码 of 图 78): there is no event to take them from."""
    used = find_variables(template.subject or "") | find_variables(template.body or "")
    return [v for v in event_variables(session, template.event_code) if v["name"] in used]


def check_variables(session: Session, *texts: str, event_code: str = "") -> set[str]:
    """The ${变量} used; CrmError naming unknown ones or a syntax error. With `event_code` the
    event's fields are known too."""
    known = ({f["name"] for f in customer_fields(session)} | {f["name"] for f in _lead_only(session)}
             | {f["name"] for f in PRODUCT_VARIABLES} | {v["name"] for v in event_variables(session, event_code)})
    used: set[str] = set()
    try:
        for text in texts:
            used |= find_variables(text or "")
    except PlaceholderError as exc:
        raise CrmError(str(exc), {"body": str(exc)}) from None
    unknown = sorted(used - known)
    if unknown:
        names = "、".join("${" + n + "}" for n in unknown)
        where = "客户字段和所选事件的字段" if event_code else "客户字段"
        raise CrmError(f"模板使用了{where}中不存在的变量：{names}", {"body": f"未知变量：{names}"})
    return used


def _clean(session: Session, data: dict, current: Optional[MessageTemplate]) -> dict:
    errors: dict = {}
    code = str(data.get("code") or "").strip()
    if not CODE_RE.match(code):
        errors["code"] = "编码以字母开头，只能包含字母、数字、下划线和短横线，最多 64 个字符"
    else:
        clash = session.exec(select(MessageTemplate.id).where(MessageTemplate.code == code)).first()
        if clash is not None and (current is None or clash != current.id):
            errors["code"] = f"编码「{code}」已被其他模板使用"
    name = str(data.get("name") or "").strip()
    if not name:
        errors["name"] = "请填写模板名称"
    elif len(name) > 100:
        errors["name"] = "模板名称不能超过 100 字"
    channel = data.get("channel") or "sms"
    if channel not in CHANNELS:
        errors["channel"] = "模板类型只能是短信或邮件"
    subject = str(data.get("subject") or "").strip()
    if channel == "email" and not subject:
        errors["subject"] = "邮件模板请填写主题"
    elif len(subject) > 200:
        errors["subject"] = "主题不能超过 200 字"
    body = str(data.get("body") or "")
    if not body.strip():
        errors["body"] = "请填写模板内容"
    elif channel == "sms" and len(body) > SMS_MAX_CHARS:
        errors["body"] = f"短信内容不能超过 {SMS_MAX_CHARS} 字"
    elif len(body) > 5000:
        errors["body"] = "模板内容不能超过 5000 字"
    event_code = str(data.get("event_code") or "").strip()
    if event_code and get_by_code(session, event_code) is None:
        errors["event_code"] = f"事件「{event_code}」不存在，请在事件注册中心确认事件编码"
    if not errors:
        try:
            check_variables(session, subject if channel == "email" else "", body, event_code=event_code)
        except CrmError as exc:
            errors.update(exc.errors)
    if errors:
        raise CrmError("模板信息有误：" + "；".join(errors.values()), errors)
    return dict(code=code, name=name, channel=channel, subject=subject if channel == "email" else "",
                body=body, enabled=bool(data.get("enabled", True)), event_code=event_code)


def create_template(session: Session, data: dict) -> MessageTemplate:
    tpl = MessageTemplate(**_clean(session, data, None))
    session.add(tpl)
    session.flush()
    return tpl


def update_template(session: Session, template_id: int, data: dict) -> MessageTemplate:
    tpl = get_template(session, template_id)
    fields = _clean(session, data, tpl)
    if fields["channel"] != tpl.channel and _active_plans(session, tpl.id):
        raise CrmError("模板正被定向营销计划使用，不能修改类型", {"channel": "有进行中的营销计划使用此模板"})
    for name, value in fields.items():
        setattr(tpl, name, value)
    session.add(tpl)
    session.flush()
    return tpl


def _active_plans(session: Session, template_id: int) -> list[str]:
    return list(session.exec(select(MarketingPlan.name).where(MarketingPlan.template_id == template_id,
                                                              MarketingPlan.status == "active")))


def delete_template(session: Session, template_id: int) -> None:
    tpl = get_template(session, template_id)
    plans = session.exec(select(MarketingPlan.name).where(MarketingPlan.template_id == tpl.id)).all()
    if plans:
        raise CrmError(f"模板正被定向营销计划使用（{'、'.join(plans[:5])}），不能删除；可以停用它",
                       {"__all__": "模板已被营销计划引用"})
    session.delete(tpl)
    session.flush()


def _display(value, tz: str):
    if isinstance(value, datetime):
        return format_local(value, tz_name=tz)
    if isinstance(value, date):
        return value.isoformat()
    return value


def customer_data(session: Session, customer, tz: str = DEFAULT_TZ) -> dict:
    """The variables of one customer: every known field (unset ones empty), times in local time."""
    fields = customer_fields(session)
    record = customer.model_dump() if isinstance(customer, Customer) else dict(customer)
    attrs = record.get("attrs") or {}
    data = {}
    for f in fields:
        value = attrs.get(f["name"]) if f.get("custom") else record.get(f["name"])
        data[f["name"]] = _display(value, tz)
    data["id"] = record.get("id")
    return data


def render_for(template: MessageTemplate, data: dict) -> dict:
    """{"subject", "body"} for one customer's variables; CrmError when rendering fails."""
    try:
        subject = render_message(template.subject or "", data) if template.channel == "email" else ""
        body = render_message(template.body, data)
    except PlaceholderError as exc:
        raise CrmError(f"模板渲染失败：{exc}", {"body": str(exc)}) from None
    return {"subject": subject, "body": body}


def preview(session: Session, data: dict, customer_id: Optional[int] = None, tz: str = DEFAULT_TZ, *,
            viewer: Viewer) -> dict:
    """预览: renders an (unsaved) template for a chosen customer, else the newest active
    customer, else a made-up 张三 — only customers `viewer` may see (another's id is NotFound).
    Returns {"subject", "body", "customer"}."""
    channel = data.get("channel") or "sms"
    event_code = str(data.get("event_code") or "").strip()
    tpl = MessageTemplate(code="preview", name="preview", channel=channel, subject=str(data.get("subject") or ""),
                          body=str(data.get("body") or ""))
    check_variables(session, tpl.subject if channel == "email" else "", tpl.body, event_code=event_code)
    customer = load(session, viewer, Customer, customer_id) if customer_id else None
    if customer is None:
        customer = session.exec(select(Customer).where(Customer.status == "active", customer_scope(viewer))
                                .order_by(col(Customer.id).desc()).limit(1)).first()
    # An event's own variables show as 【label】: the event fills them when the step runs.
    sample_event = {v["name"]: f"【{v['label'].split('（')[0]}】" for v in event_variables(session, event_code)}
    variables = {**sample_event, **SAMPLE_PRODUCT,
                 **customer_data(session, customer if customer is not None else SAMPLE_CUSTOMER, tz)}
    out = render_for(tpl, variables)
    out["customer"] = {"id": variables.get("id"), "name": variables.get("name") or ""}
    return out
