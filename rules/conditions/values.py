"""Turning a row's value, as the web form sent it, into the field's type.

Forms send strings ("100", "true", "2024-05-01 08:00", "a,b,c"); a value that cannot be read as
the field's type is a marketer error, reported at save time and never at match time.
"""
from __future__ import annotations

import math
import re
from datetime import datetime

from config.clock import format_local, from_local
from events.models import FIELD_TYPE_LABELS
from rules.conditions.operators import BOOLEAN, DATETIME, LIST, NUMBER, TEXT

# Beyond 2**53 a float cannot tell neighbouring integers apart; JSON consumers disagree there.
MAX_EXACT_NUMBER = 2 ** 53
MAX_WITHIN_DAYS = 36500
_TRUE = {"true", "1", "是", "yes", "y", "真", "开", "on"}
_FALSE = {"false", "0", "否", "no", "n", "假", "关", "off"}
_SPLIT = re.compile(r"[,，;；\n]")


class BadValue(ValueError):
    """The value does not fit; the message is the part after "第 N 行：字段「X」…"."""


def _text_of(raw) -> str:
    return raw.strip() if isinstance(raw, str) else str(raw)


def to_number(raw) -> int | float:
    if isinstance(raw, bool):
        raise BadValue(f"值「{raw}」不是数字")
    if isinstance(raw, (int, float)):
        number = raw
    else:
        text = _text_of(raw)
        try:
            number = int(text) if re.fullmatch(r"[+-]?\d+", text) else float(text)
        except ValueError:
            raise BadValue(f"值「{text}」不是数字") from None
    if isinstance(number, float) and (math.isnan(number) or math.isinf(number)):
        raise BadValue(f"值「{raw}」不是有效数字")
    if abs(number) > MAX_EXACT_NUMBER:
        raise BadValue(f"值「{raw}」太大，超出可精确比较的范围")
    return number


def to_boolean(raw) -> bool:
    if isinstance(raw, bool):
        return raw
    text = _text_of(raw).lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise BadValue(f"值「{raw}」不是“是/否”")


def to_datetime(raw, tz: str) -> datetime:
    if isinstance(raw, datetime):
        return from_local(raw, tz)
    text = _text_of(raw)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise BadValue(f"值「{text}」不是时间（例如 2024-05-01 08:00）") from None
    # A naive time typed in the console is wall-clock time in the console's zone.
    return from_local(parsed, tz)


def to_text(raw) -> str:
    if raw is None or isinstance(raw, (list, dict, tuple)):
        raise BadValue(f"值「{raw}」不是文本")
    return raw if isinstance(raw, str) else item_text(raw)


def item_text(item) -> str:
    """How a list item is compared: as text, so ["3"] and [3] both contain "3".

    Shared by the Python predicate and the durable fact encoding so both see the same items.
    """
    if isinstance(item, bool):
        return "true" if item else "false"
    if isinstance(item, float) and item.is_integer():
        return str(int(item))
    return item if isinstance(item, str) else str(item)


def scalar(field_type: str, raw, tz: str):
    """One value of the field's type; list fields compare their items as text."""
    if field_type == NUMBER:
        return to_number(raw)
    if field_type == BOOLEAN:
        return to_boolean(raw)
    if field_type == DATETIME:
        return to_datetime(raw, tz)
    if field_type in (TEXT, LIST):
        return to_text(raw)
    raise BadValue(f"字段类型「{field_type}」未知")


def many(raw) -> list:
    """A list from a list widget or a comma/newline separated text box."""
    if isinstance(raw, (list, tuple)):
        items = list(raw)
    elif raw is None:
        items = []
    else:
        items = _SPLIT.split(raw) if isinstance(raw, str) else [raw]
    return [item for item in items if not (isinstance(item, str) and not item.strip())]


def within_days(raw) -> int:
    try:
        days = to_number(raw)
    except BadValue:
        raise BadValue(f"天数「{raw}」不是整数") from None
    if not float(days).is_integer() or not 1 <= days <= MAX_WITHIN_DAYS:
        raise BadValue(f"天数「{raw}」应为 1 到 {MAX_WITHIN_DAYS} 之间的整数")
    return int(days)


def type_label(field_type: str) -> str:
    return FIELD_TYPE_LABELS.get(field_type, field_type)


def display(value) -> str:
    """A value as a marketer reads it in a trace."""
    if value is None:
        return "（空）"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime):
        return format_local(value, "%Y-%m-%d %H:%M:%S")  # the configured zone, as on every page
    if isinstance(value, (list, tuple)):
        return "、".join(display(item) for item in value)
    return str(value)
