"""Custom field values (数据结构定义) checked and typed the same way whether they come from the
customer form, an import file or the API: numbers stored as numbers, 是/否 as booleans, dates as
ISO text (YYYY-MM-DD, which sorts and compares correctly), enum choices as the item's value
(an import may use the Chinese label instead)."""
from __future__ import annotations

import re
from datetime import date, datetime

from crm.customers.models import CustomField
from rules.conditions import values as cv

MAX_TEXT = 1000
_DATE_RE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T].*)?$")


class BadAttr(ValueError):
    """The Chinese reason one value does not fit its field."""


def is_blank(raw) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


def to_date_text(raw) -> str:
    if isinstance(raw, datetime):
        return raw.date().isoformat()
    if isinstance(raw, date):
        return raw.isoformat()
    text = str(raw).strip()
    match = _DATE_RE.match(text)
    if not match:
        raise BadAttr(f"「{raw}」不是日期（例如 2024-05-01）")
    try:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3))).isoformat()
    except ValueError:
        raise BadAttr(f"「{raw}」不是有效日期") from None


def coerce(field: CustomField, raw, enum_items: list[dict] | None = None):
    """One value typed for `field`; None when blank. Raises BadAttr with a Chinese reason."""
    if is_blank(raw):
        return None
    kind = field.type
    try:
        if kind == "number":
            number = cv.to_number(raw)
            return int(number) if isinstance(number, float) and number.is_integer() else number
        if kind == "boolean":
            return cv.to_boolean(raw)
    except cv.BadValue as exc:
        raise BadAttr(str(exc)) from None
    if kind == "date":
        return to_date_text(raw)
    text = raw.strip() if isinstance(raw, str) else cv.item_text(raw)
    if kind == "enum":
        items = enum_items or []
        for item in items:
            if text == item["value"]:
                return item["value"]
        for item in items:
            if text == item["label"]:
                return item["value"]
        choices = "、".join(i["label"] for i in items) or "（枚举没有选项）"
        raise BadAttr(f"「{text}」不是可选项（可选：{choices}）")
    if len(text) > MAX_TEXT:
        raise BadAttr(f"内容太长（最多 {MAX_TEXT} 字）")
    return text


def display(field: CustomField, value, enum_items: list[dict] | None = None) -> str:
    """A stored value as a marketer reads it in lists and the detail page."""
    if value is None or value == "":
        return ""
    if field.type == "boolean":
        return "是" if value else "否"
    if field.type == "enum":
        for item in enum_items or []:
            if item["value"] == value:
                return item["label"]
    return cv.item_text(value)
