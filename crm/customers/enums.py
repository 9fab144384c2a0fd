"""枚举管理: named lists of choices (e.g. 风险偏好: 保守 / 稳健 / 进取) that enum custom fields
offer. Items are {"value", "label"} in display order; the stored customer value is `value`.

Functions take a Session (inside `with db.write() as s:`); bad input raises CrmError.
"""
from __future__ import annotations

import re

from sqlmodel import Session, select

from crm.customers.models import CustomField, EnumType
from crm.errors import CrmError, NotFound

CODE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")


def list_enums(session: Session) -> list[EnumType]:
    return list(session.exec(select(EnumType).order_by(EnumType.id)))


def get_enum(session: Session, enum_id: int) -> EnumType:
    row = session.get(EnumType, enum_id)
    if row is None:
        raise NotFound("枚举不存在或已删除")
    return row


def _clean_items(raw) -> tuple[list[dict], str | None]:
    """Items from a list of dicts or from text lines "value=label" / "label"."""
    if isinstance(raw, str):
        rows = []
        for line in raw.splitlines():
            line = line.strip()
            if not line:
                continue
            value, sep, label = line.partition("=")
            rows.append({"value": value.strip(), "label": (label if sep else value).strip()})
        raw = rows
    if not isinstance(raw, list):
        return [], "选项格式不正确"
    items, seen = [], set()
    for i, item in enumerate(raw, 1):
        if not isinstance(item, dict):
            return [], f"第 {i} 个选项格式不正确"
        value = str(item.get("value") or "").strip()
        label = str(item.get("label") or value).strip()
        if not value:
            return [], f"第 {i} 个选项缺少值"
        if len(value) > 64 or len(label) > 100:
            return [], f"第 {i} 个选项太长（值最多 64 字，名称最多 100 字）"
        if value in seen:
            return [], f"选项值「{value}」重复"
        seen.add(value)
        items.append({"value": value, "label": label})
    if not items:
        return [], "至少需要一个选项"
    return items, None


def _validate(session: Session, data: dict, enum_id: int | None) -> dict:
    errors = {}
    code = str(data.get("code") or "").strip()
    name = str(data.get("name") or "").strip()
    if not CODE_RE.match(code):
        errors["code"] = "编码须以字母开头，只含字母、数字和下划线（最多 64 位）"
    else:
        clash = session.exec(select(EnumType).where(EnumType.code == code)).first()
        if clash is not None and clash.id != enum_id:
            errors["code"] = f"编码「{code}」已被枚举「{clash.name}」使用"
    if not name or len(name) > 100:
        errors["name"] = "请填写名称（最多 100 字）"
    items, problem = _clean_items(data.get("items"))
    if problem:
        errors["items"] = problem
    if errors:
        raise CrmError("枚举信息有误，请检查", errors)
    return {"code": code, "name": name, "items": items}


def create_enum(session: Session, data: dict) -> EnumType:
    row = EnumType(**_validate(session, data, None))
    session.add(row)
    session.flush()
    return row


def update_enum(session: Session, enum_id: int, data: dict) -> EnumType:
    row = get_enum(session, enum_id)
    clean = _validate(session, data, enum_id)
    for key, value in clean.items():
        setattr(row, key, value)
    session.add(row)
    session.flush()
    return row


def fields_using(session: Session, enum_id: int) -> list[CustomField]:
    return list(session.exec(select(CustomField).where(CustomField.enum_id == enum_id)))


def delete_enum(session: Session, enum_id: int) -> None:
    row = get_enum(session, enum_id)
    users = fields_using(session, enum_id)
    if users:
        names = "、".join(f"「{f.label}」" for f in users)
        raise CrmError(f"枚举「{row.name}」正被字段{names}使用，不能删除")
    session.delete(row)
    session.flush()


def item_labels(enum: EnumType | None) -> dict[str, str]:
    return {i["value"]: i["label"] for i in (enum.items if enum else [])}
