"""Finding customers and leads by a phone or e-mail that is stored encrypted (config.pii_column).

The database can only compare blind indexes, so a sealed contact is found by its complete value
(normalised the way it was written: 11 digits, lower-case e-mail) or, for phones, by its last four
digits (后四位, through a second index). Any other partial match (contains 138, starts with, regex)
is refused with a message naming the field rather than silently matching nothing.
"""
from __future__ import annotations

from typing import Optional

from sqlalchemy import false, or_

from config.pii_column import blind_index, tail_index
from crm.customers.normalize import BadContact, normalize_email, normalize_mobile
from rules.conditions.errors import ConditionError
from rules.conditions.nodes import Comparison

_NORMALIZE = {"mobile": normalize_mobile, "email": normalize_email}
REFUSALS = {"mobile": "已加密存储，只支持完整号码或后四位查找",
            "email": "已加密存储，只支持完整邮箱地址查找"}


def full_index(kind: str, value) -> Optional[str]:
    """The blind index of a complete contact as typed (+86 138-0013-8000 finds 13800138000)."""
    try:
        clean = _NORMALIZE[kind](value)
    except BadContact:
        clean = str(value)  # cannot be a stored value: its index simply matches nothing
    return blind_index(kind, clean)


def last_four(kind: str, value) -> Optional[str]:
    """The tail index when `value` is exactly four digits of a phone, else None."""
    text = str(value or "").strip()
    if kind == "mobile" and len(text) == 4 and text.isdigit():
        return tail_index(text)
    return None


def contact_conditions(model, text: str) -> list:
    """Search-box conditions on `model`'s sealed contacts: a whole phone, a whole e-mail, or a
    phone's last four digits (for OR-ing with the other columns a search box looks at)."""
    out = [model.mobile_bidx == full_index("mobile", text), model.email_bidx == full_index("email", text)]
    tail = last_four("mobile", text)
    if tail:
        out.append(model.mobile_tail_bidx == tail)
    return out


class SealedContact:
    """A condition field backed by a sealed column; rules.conditions.sql asks it to compare."""

    def __init__(self, model, kind: str, label: str):
        self.kind, self.label = kind, label
        self.index = getattr(model, f"{kind}_bidx")
        self.tail = getattr(model, f"{kind}_tail_bidx", None)

    def refuse(self, leaf: Comparison) -> ConditionError:
        return ConditionError(f"第 {leaf.row} 行：{self.label}{REFUSALS[self.kind]}", leaf.row)

    def sql_comparison(self, leaf: Comparison, value):
        op, index = leaf.op, self.index
        if op in ("is_empty", "is_not_empty"):
            return index.is_(None) if op == "is_empty" else index.is_not(None)
        if op in ("eq", "ne"):
            match = index == full_index(self.kind, value)
            return match if op == "eq" else or_(index.is_(None), ~match)
        if op in ("in", "not_in"):
            match = index.in_([full_index(self.kind, v) for v in value]) if value else false()
            return match if op == "in" else or_(index.is_(None), ~match)
        if op in ("contains", "ends_with"):
            tail = last_four(self.kind, value)
            if tail is not None:
                return self.tail == tail
            if op == "contains" and self._complete(value):
                return index == full_index(self.kind, value)
        raise self.refuse(leaf)

    def _complete(self, value) -> bool:
        try:
            return _NORMALIZE[self.kind](value) is not None
        except BadContact:
            return False
