"""The operators a condition row may use, with the metadata the console editor needs.

Keys are stored in the database (Strategy.conditions), so they never change; labels may.
`arity` tells the editor which value widget to draw: none (no value), one, two (a range), many (a list).
"""
from __future__ import annotations

from dataclasses import dataclass

TEXT, NUMBER, BOOLEAN, DATETIME, LIST = "text", "number", "boolean", "datetime", "list"


@dataclass(frozen=True)
class Operator:
    key: str
    label: str
    types: tuple[str, ...]
    arity: str  # "none" | "one" | "two" | "many"
    # True when an absent/None field satisfies the operator: "不等于 X" holds when there is no value.
    true_when_missing: bool = False


_ALL = (TEXT, NUMBER, BOOLEAN, DATETIME, LIST)

OPERATORS: dict[str, Operator] = {op.key: op for op in (
    Operator("eq", "等于", (TEXT, NUMBER, BOOLEAN), "one"),
    Operator("ne", "不等于", (TEXT, NUMBER, BOOLEAN), "one", True),
    Operator("gt", "大于", (NUMBER,), "one"),
    Operator("gte", "大于等于", (NUMBER,), "one"),
    Operator("lt", "小于", (NUMBER,), "one"),
    Operator("lte", "小于等于", (NUMBER,), "one"),
    Operator("between", "介于", (NUMBER, DATETIME), "two"),
    # On a list field: any item of the list is one of the values / none is.
    Operator("in", "属于", (TEXT, NUMBER, LIST), "many"),
    Operator("not_in", "不属于", (TEXT, NUMBER, LIST), "many", True),
    # On a list field: the list has the value as one of its items.
    Operator("contains", "包含", (TEXT, LIST), "one"),
    Operator("not_contains", "不包含", (TEXT, LIST), "one", True),
    Operator("starts_with", "开头是", (TEXT,), "one"),
    Operator("ends_with", "结尾是", (TEXT,), "one"),
    Operator("is_empty", "为空", _ALL, "none", True),
    Operator("is_not_empty", "不为空", _ALL, "none"),
    Operator("regex", "正则匹配", (TEXT,), "one"),
    Operator("before", "早于", (DATETIME,), "one"),
    Operator("after", "晚于", (DATETIME,), "one"),
    Operator("within_days", "最近N天内", (DATETIME,), "one"),
)}

OPERATOR_LABELS: dict[str, str] = {key: op.label for key, op in OPERATORS.items()}


def operators_for_type(field_type: str) -> list[Operator]:
    """The operators the editor offers for a field of this type, in display order."""
    return [op for op in OPERATORS.values() if field_type in op.types]


def operators_metadata() -> list[dict]:
    """JSON for the console editor."""
    return [{"key": op.key, "label": op.label, "types": list(op.types), "arity": op.arity}
            for op in OPERATORS.values()]
