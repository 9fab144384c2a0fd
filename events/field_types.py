"""Typed event fields: check and normalise incoming data against an event definition.

Two forms of the same data: `normalise` gives JSON-able values to store (datetimes as ISO-8601
UTC strings); `typed` gives Python values for matching (datetimes as aware datetimes).
"""
from __future__ import annotations

import math
import re
import unicodedata
from datetime import datetime
from typing import Any

from config.clock import UTC, zone
from events.models import FIELD_TYPE_LABELS, FIELD_TYPES

FIELD_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,31}$")
_TRUE = {"true", "1", "yes", "y", "是", "t"}
_FALSE = {"false", "0", "no", "n", "否", "f"}


class FieldValueError(ValueError):
    pass


def _number(value: Any) -> int | float:
    if isinstance(value, bool):
        raise FieldValueError("应为数值，收到布尔值")
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            raise FieldValueError("应为有限数值")
        return value
    if isinstance(value, str):
        text = unicodedata.normalize("NFKC", value).strip()
        try:
            number = float(text) if any(c in text for c in ".eE") else int(text)
        except ValueError:
            raise FieldValueError(f"「{value}」不是数值") from None
        if isinstance(number, float) and not math.isfinite(number):
            raise FieldValueError("应为有限数值")
        return number
    raise FieldValueError(f"应为数值，收到{_kind(value)}")


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise FieldValueError(f"应为布尔值（true/false），收到「{value}」")


def parse_datetime(value: Any, tz_name: str | None = None) -> datetime:
    """ISO-8601 (naive means the configured zone) or unix seconds → aware UTC."""
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            raise FieldValueError(f"时间戳「{value}」超出范围") from None
    elif isinstance(value, str):
        text = value.strip().replace("Z", "+00:00")
        try:
            dt = datetime.fromisoformat(text)
        except ValueError:
            raise FieldValueError(f"「{value}」不是有效时间（应为 ISO-8601，如 2026-11-22T10:00:00+08:00）") from None
    else:
        raise FieldValueError(f"应为时间，收到{_kind(value)}")
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=zone(tz_name))
    return dt.astimezone(UTC)


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    raise FieldValueError(f"应为文本，收到{_kind(value)}")


def _list(value: Any) -> list:
    if isinstance(value, list):
        return value
    raise FieldValueError(f"应为列表，收到{_kind(value)}")


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "对象"
    if isinstance(value, list):
        return "列表"
    if isinstance(value, bool):
        return "布尔值"
    if isinstance(value, (int, float)):
        return "数值"
    if value is None:
        return "空值"
    return "文本"


def coerce(field_type: str, value: Any, tz_name: str) -> Any:
    """The typed (Python) value of one field; raises FieldValueError with a Chinese reason."""
    if field_type == "number":
        return _number(value)
    if field_type == "boolean":
        return _boolean(value)
    if field_type == "datetime":
        return parse_datetime(value, tz_name)
    if field_type == "list":
        return _list(value)
    return _text(value)


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def normalise(fields: list[dict], data: dict, tz_name: str) -> tuple[dict, list[dict]]:
    """Checks data against the definition; returns (JSON-able data, errors naming each field)."""
    return FieldsValidator(fields).normalise(data, tz_name)


# A value of this exact class is already the stored form of the field's type: no conversion.
_STORED_AS_IS = {"text": str, "number": int, "boolean": bool, "list": list}


class FieldsValidator:
    """`normalise` for one definition's field list, prepared once (the ingestion path keeps one per
    cached definition revision): the per-field lookups and messages are worked out here, and a
    value already in its stored form (text as a string, a number as an int, …) passes with one
    class check."""

    __slots__ = ("_fields",)

    def __init__(self, fields):
        self._fields = tuple(
            (f["name"], bool(f.get("required")), _STORED_AS_IS.get(f.get("type", "text")), f.get("type", "text"),
             f.get("label") or f["name"])
            for f in fields)

    def normalise(self, data: dict, tz_name: str) -> tuple[dict, list[dict]]:
        out = dict(data)
        errors: list[dict] = []
        for name, required, as_is, field_type, label in self._fields:
            value = data.get(name)
            if value.__class__ is as_is and (as_is is not str or value.strip()):
                continue  # stored as received
            if is_blank(value):
                if required:
                    errors.append({"field": name, "code": "missing", "message": f"缺少必填字段「{label}」({name})"})
                continue
            try:
                typed = coerce(field_type, value, tz_name)
            except FieldValueError as exc:
                type_label = FIELD_TYPE_LABELS.get(field_type, "文本")
                errors.append({"field": name, "code": "type", "message": f"字段「{label}」({name})类型应为{type_label}：{exc}"})
                continue
            out[name] = typed.isoformat() if isinstance(typed, datetime) else typed
        return out, errors


def typed(fields: list[dict], data: dict, tz_name: str) -> dict:
    """Stored (already validated) data → Python values for matching; bad values become None."""
    out = dict(data)
    for f in fields:
        name = f["name"]
        value = data.get(name)
        if is_blank(value):
            out[name] = None
            continue
        try:
            out[name] = coerce(f.get("type", "text"), value, tz_name)
        except FieldValueError:
            out[name] = None
    return out


def check_field_definitions(fields: list) -> dict:
    """Errors (key → Chinese message) for a definition's field list, keyed 'fields[i].name' etc."""
    errors: dict[str, str] = {}
    if not isinstance(fields, list):
        return {"fields": "字段列表格式错误"}
    seen: set[str] = set()
    for i, f in enumerate(fields):
        prefix = f"fields[{i}]"
        if not isinstance(f, dict):
            errors[prefix] = f"第 {i + 1} 个字段格式错误"
            continue
        name = str(f.get("name", "")).strip()
        if not FIELD_NAME_RE.match(name):
            errors[f"{prefix}.name"] = f"第 {i + 1} 个字段名「{name}」无效：以字母或下划线开头，仅含字母、数字、下划线，最多 32 个字符"
        elif name in seen:
            errors[f"{prefix}.name"] = f"字段名「{name}」重复"
        seen.add(name)
        if f.get("type", "text") not in FIELD_TYPES:
            errors[f"{prefix}.type"] = f"第 {i + 1} 个字段类型「{f.get('type')}」无效"
        if len(str(f.get("label", ""))) > 50:
            errors[f"{prefix}.label"] = f"第 {i + 1} 个字段显示名最多 50 个字符"
    if len(fields) > 200:
        errors["fields"] = "一个事件最多 200 个字段"
    return errors


def clean_field(f: dict) -> dict:
    return {
        "name": str(f.get("name", "")).strip(),
        "type": f.get("type", "text"),
        "label": str(f.get("label", "")).strip() or str(f.get("name", "")).strip(),
        "required": bool(f.get("required")) and str(f.get("required")).lower() not in ("false", "0", "否"),
        "remark": str(f.get("remark", "")).strip()[:200],
    }
