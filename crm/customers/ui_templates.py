"""UI 模板管理 (seed 001 §3.1.1.3, 图 34–36): define, edit and look up UI templates of 客户档案 —
列表显示列 (which fields, in which order, width, 可排序, 固定列), 编辑模板 (the fields a form asks for)
and 查询模板 (the fields a search offers) — each naming fields of 数据结构定义 (built-in and custom
fields; an unknown one is refused at save). A 客户详情TABS page of type 「UI 模板」 names a template
by its 模板编号 and shows the customer through it: the display template when one is written (Jinja
sandbox with the work budget of events.template_budget, trial-rendered at save), otherwise the
list columns as a label/value table.

Functions take the caller's Session and never commit.
"""
from __future__ import annotations

import re
from typing import Optional

from markupsafe import Markup, escape
from sqlalchemy import or_
from sqlmodel import Session, select

from config.clock import utcnow
from crm.customers.fieldset import customer_fields
from crm.customers.models import DetailTab
from crm.customers.tabs import SAMPLE_CUSTOMER, check_template, render_sandboxed
from crm.customers.ui_template_models import UiTemplate
from crm.errors import CrmError, NotFound

CODE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]{0,63}$")
MIN_WIDTH, MAX_WIDTH = 40, 600
UI_TAB_KIND = "ui"  # DetailTab.kind whose content is a 模板编号


def list_templates(session: Session, q: str = "") -> list[UiTemplate]:
    """查询: by 模板编号 or 名称 (contains)."""
    stmt = select(UiTemplate).order_by(UiTemplate.code)
    if q.strip():
        stmt = stmt.where(or_(UiTemplate.code.contains(q.strip(), autoescape=True),
                              UiTemplate.name.contains(q.strip(), autoescape=True)))
    return list(session.exec(stmt))


def get_template(session: Session, template_id: int) -> UiTemplate:
    row = session.get(UiTemplate, template_id)
    if row is None:
        raise NotFound("UI 模板不存在或已删除")
    return row


def by_code(session: Session, code: str) -> Optional[UiTemplate]:
    return session.exec(select(UiTemplate).where(UiTemplate.code == code)).first()


def _width(value, name: str, errors: dict) -> int:
    try:
        width = int(value or 120)
    except (TypeError, ValueError):
        width = 0
    if not MIN_WIDTH <= width <= MAX_WIDTH:
        errors[f"width_{name}"] = f"「{name}」的宽度应为 {MIN_WIDTH}–{MAX_WIDTH} 之间的整数"
    return width


def _clean(session: Session, data: dict, current: Optional[UiTemplate]) -> dict:
    errors: dict = {}
    code = str(data.get("code") or "").strip()
    if not CODE_RE.match(code):
        errors["code"] = "模板编号以字母开头，只能包含字母、数字、下划线和短横线，最多 64 个字符"
    else:
        clash = by_code(session, code)
        if clash is not None and (current is None or clash.id != current.id):
            errors["code"] = f"模板编号「{code}」已被使用"
    name = str(data.get("name") or "").strip()
    if not name or len(name) > 100:
        errors["name"] = "请填写模板名称（最多 100 字）"
    labels = {f["name"]: f["label"] for f in customer_fields(session)}
    columns = []
    for col in data.get("columns") or []:
        field = str(col.get("field") or "")
        if field not in labels:
            errors["columns"] = f"字段「{field}」不在数据结构定义中"
            continue
        columns.append({"field": field, "label": str(col.get("label") or "").strip()[:50] or labels[field],
                        "width": _width(col.get("width"), field, errors), "sortable": bool(col.get("sortable")),
                        "fixed": "left" if col.get("fixed") == "left" else ""})
    lists = {}
    for key, label in (("form_fields", "编辑模板"), ("query_fields", "查询模板")):
        names = [str(n) for n in data.get(key) or []]
        unknown = [n for n in names if n not in labels]
        if unknown:
            errors[key] = f"{label}中的字段「{'、'.join(unknown)}」不在数据结构定义中"
        lists[key] = [n for n in dict.fromkeys(names) if n in labels]
    if not columns and not lists["form_fields"] and not lists["query_fields"] and "columns" not in errors:
        errors["columns"] = "请至少为列表显示列、编辑模板或查询模板选择一个字段"
    body = str(data.get("body") or "")
    if len(body) > 5000:
        errors["body"] = "显示模板最多 5000 字"
    elif body.strip():
        reason = check_template(body, _context(SAMPLE_CUSTOMER, columns))
        if reason:
            errors["body"] = reason
    if errors:
        raise CrmError("UI 模板设置有误，请检查", errors)
    return {"code": code, "name": name, "columns": columns, "body": body, "enabled": bool(data.get("enabled", True)),
            **lists}


def create_template(session: Session, data: dict) -> UiTemplate:
    row = UiTemplate(**_clean(session, data, None))
    session.add(row)
    session.flush()
    return row


def update_template(session: Session, template_id: int, data: dict) -> UiTemplate:
    row = get_template(session, template_id)
    for key, value in _clean(session, data, row).items():
        setattr(row, key, value)
    row.updated_at = utcnow()
    session.add(row)
    session.flush()
    return row


def delete_template(session: Session, template_id: int) -> None:
    row = get_template(session, template_id)
    used = session.exec(select(DetailTab.name).where(DetailTab.kind == UI_TAB_KIND, DetailTab.content == row.code)).all()
    if used:
        raise CrmError(f"模板正被客户详情页签「{'」「'.join(used)}」使用，不能删除；可以停用它",
                       {"__all__": "模板已被客户详情TABS引用"})
    session.delete(row)
    session.flush()


def _value(customer: dict, field: str):
    attrs = customer.get("attrs") or {}
    return customer.get(field, attrs.get(field))


def _context(customer: dict, columns: list) -> dict:
    rows = [{"label": c["label"], "field": c["field"], "value": _value(customer, c["field"])} for c in columns]
    return {"customer": customer, "attrs": customer.get("attrs") or {}, "columns": rows}


def render_for(template: Optional[UiTemplate], customer: dict) -> str:
    """HTML of a customer through the template (auto-escaped); problems become a Chinese message."""
    if template is None or not template.enabled:
        return "<p class=\"muted\">UI 模板不存在或已停用</p>"
    if not template.body.strip():
        cells = "".join(f"<dt>{escape(c['label'])}</dt><dd>{escape(_value(customer, c['field']) or '—')}</dd>"
                        for c in template.columns)
        return str(Markup(f"<dl class=\"crm-dl\">{cells}</dl>"))
    return render_sandboxed(template.body, _context(customer, template.columns))
