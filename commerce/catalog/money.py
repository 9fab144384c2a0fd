"""Prices are whole 分 (fen). The console takes 元 typed by a person ("12.5", "12.50"), at most two
decimals, converted exactly through Decimal; the API takes integer fen and refuses floats, so a
client's 0.1 + 0.2 never becomes a price."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Optional

from commerce.errors import CommerceError

MAX_FEN = 100_000_000_00  # 1 亿元: more is a typo


def _refuse(field: str, label: str, why: str):
    message = f"{label}{why}"
    raise CommerceError(message, {field: message})


def yuan_to_fen(text, field: str, label: str, *, optional: bool = False) -> Optional[int]:
    """"12.5" → 1250; "", None → None when optional; "-1", "1.234", "abc" are refused naming the field."""
    raw = "" if text is None else str(text).strip().replace(",", "").replace("，", "")
    if raw == "":
        if optional:
            return None
        _refuse(field, label, "不能为空")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        _refuse(field, label, "必须是金额（元），如 12.50")
    if not value.is_finite():
        _refuse(field, label, "必须是金额（元），如 12.50")
    if value < 0:
        _refuse(field, label, "不能为负数")
    if value.as_tuple().exponent < -2 and value != value.quantize(Decimal("0.01")):
        _refuse(field, label, "最多两位小数")
    fen = int(value * 100)
    if fen > MAX_FEN:
        _refuse(field, label, "超出上限")
    return fen


def check_fen(value, field: str, label: str, *, optional: bool = False) -> Optional[int]:
    """An API amount: a JSON integer of 分 (0 or more). 12.5, 12.0, "1250", true are refused."""
    if value is None:
        if optional:
            return None
        _refuse(field, label, "不能为空")
    if isinstance(value, bool) or not isinstance(value, int):
        _refuse(field, label, "必须是整数（单位：分），不接受小数或字符串")
    if value < 0:
        _refuse(field, label, "不能为负数")
    if value > MAX_FEN:
        _refuse(field, label, "超出上限")
    return value


def fen_to_yuan(fen: Optional[int]) -> str:
    """1250 → "12.50" (for display and form values)."""
    if fen is None:
        return ""
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100}.{fen % 100:02d}"
