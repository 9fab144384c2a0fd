"""客户详情TABS: extra tabs on the customer detail page, configured by an operator — either an
external page (URL, shown in a sandboxed iframe, `{customer_id}` / `{mobile}` filled in) or a
small UI template rendered in Jinja's sandbox with the customer's fields (no file, attribute or
code access) under a work and size budget: a tab renders on every page view, so a template that
exceeds it with a sample customer is refused at save, and one that exceeds it with a real
customer shows the reason in its tab instead of slowing or breaking the page.
Functions take a Session."""
from __future__ import annotations

import re
from urllib.parse import quote, urlparse

from jinja2 import TemplateError
from markupsafe import escape
from sqlmodel import Session, select

from crm.customers.models import DetailTab
from crm.errors import CrmError, NotFound
from events.template_budget import Budget, BudgetedSandbox, TemplateBudgetError, render, trial_render

TAB_KINDS = {"url": "外部链接", "template": "UI 模板", "ui": "UI 模板编号"}  # ui: crm.customers.ui_templates
TAB_BUDGET = Budget(seconds=0.5, steps=50_000, output_chars=64 * 1024, value_chars=64 * 1024)
_ENV = BudgetedSandbox(autoescape=True, budget=TAB_BUDGET)
SAMPLE_CUSTOMER = {"id": 1, "name": "示例客户", "mobile": "13800000000", "email": "demo@example.com",
                   "city": "上海", "source": "导入", "gender": "未知", "attrs": {}}


def list_tabs(session: Session, enabled_only: bool = False) -> list[DetailTab]:
    query = select(DetailTab).order_by(DetailTab.position, DetailTab.id)
    if enabled_only:
        query = query.where(DetailTab.enabled.is_(True))
    return list(session.exec(query))


def get_tab(session: Session, tab_id: int) -> DetailTab:
    row = session.get(DetailTab, tab_id)
    if row is None:
        raise NotFound("详情页签不存在或已删除")
    return row


def _validate(data: dict) -> dict:
    errors = {}
    clean = {"name": str(data.get("name") or "").strip(), "kind": str(data.get("kind") or "url"),
             "content": str(data.get("content") or "").strip(),
             "enabled": data.get("enabled") in (True, "1", "on", "true", 1)}
    try:
        clean["position"] = int(data.get("position") or 0)
    except (TypeError, ValueError):
        errors["position"] = "排序须为整数"
    if not clean["name"] or len(clean["name"]) > 50:
        errors["name"] = "请填写页签名称（最多 50 字）"
    if clean["kind"] not in TAB_KINDS:
        errors["kind"] = "请选择页签类型"
    elif not clean["content"] or len(clean["content"]) > 5000:
        errors["content"] = "请填写链接或模板内容（最多 5000 字）"
    elif clean["kind"] == "ui":
        if not re.match(r"^[A-Za-z][A-Za-z0-9_\-]{0,63}$", clean["content"]):
            errors["content"] = "请填写「UI 模板管理」中的模板编号"
    elif clean["kind"] == "url":
        parsed = urlparse(clean["content"].replace("{customer_id}", "1").replace("{mobile}", "1"))
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            errors["content"] = "链接须以 http:// 或 https:// 开头"
    else:
        reason = check_template(clean["content"], _context(SAMPLE_CUSTOMER))
        if reason:
            errors["content"] = reason
    if errors:
        raise CrmError("页签设置有误，请检查", errors)
    return clean


def create_tab(session: Session, data: dict) -> DetailTab:
    row = DetailTab(**_validate(data))
    session.add(row)
    session.flush()
    return row


def update_tab(session: Session, tab_id: int, data: dict) -> DetailTab:
    row = get_tab(session, tab_id)
    for key, value in _validate(data).items():
        setattr(row, key, value)
    session.add(row)
    session.flush()
    return row


def delete_tab(session: Session, tab_id: int) -> None:
    session.delete(get_tab(session, tab_id))
    session.flush()


def tab_url(tab: DetailTab, customer: dict) -> str:
    return (tab.content.replace("{customer_id}", quote(str(customer.get("id") or "")))
            .replace("{mobile}", quote(str(customer.get("mobile") or ""))))


def _context(customer: dict) -> dict:
    return {"customer": customer, "attrs": customer.get("attrs") or {}}


def check_template(source: str, sample: dict) -> str | None:
    """At save: why an operator's template is refused (syntax, or over budget with `sample`), or None."""
    try:
        return trial_render(_ENV.from_string(source), sample)
    except TemplateError as exc:
        return f"模板语法错误：{exc}"


def render_template_tab(tab: DetailTab, customer: dict) -> str:
    return render_sandboxed(tab.content, _context(customer))


def render_sandboxed(source: str, context: dict) -> str:
    """HTML (auto-escaped) from an operator's template in the sandbox; an error becomes a Chinese message."""
    try:
        return render(_ENV.from_string(source), context)
    except TemplateBudgetError as exc:
        return f"<p class=\"field-error\">{escape(str(exc))}</p>"
    except Exception as exc:  # noqa: BLE001 - a broken operator template must not break the page
        return f"<p class=\"field-error\">模板渲染失败：{type(exc).__name__}</p>"
