"""The third compiler: a condition tree → a SQLAlchemy boolean expression (customer audiences:
auto-tag rules, grouping and allocation rules, targeted marketing).

Which column a field is, is the caller's business (`column_for(leaf)`), so this module knows no
table; `column_for` may also return an object with `sql_comparison(leaf, value)` for a field that
cannot be compared as a plain column (phones and e-mails stored encrypted). Semantics match the Python predicate: a missing (NULL) value makes every comparison false
except 为空, 不等于, 不属于 and 不包含, which are true.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy import and_, not_, or_, true
from sqlalchemy.sql.elements import ColumnElement

from rules.conditions.errors import NotExpressible
from rules.conditions.nodes import Comparison, Compiler, Node

ColumnFor = Callable[[Comparison], ColumnElement]


def _missing(col, field_type: str):
    if field_type == "text":
        return or_(col.is_(None), col == "")
    return col.is_(None)


class _SqlCompiler(Compiler[ColumnElement]):
    def __init__(self, column_for: ColumnFor, now: datetime, value_for: Callable):
        self.column_for = column_for
        self.now = now
        self.value_for = value_for

    def comparison(self, leaf: Comparison) -> ColumnElement:
        col = self.column_for(leaf)
        v = self.value_for(leaf, leaf.value)
        compare = getattr(col, "sql_comparison", None)
        if compare is not None:  # a field that compares its own way (a sealed contact: by blind index)
            return compare(leaf, v)
        op, t = leaf.op, leaf.field_type
        if t == "list":
            raise NotExpressible(f"第 {leaf.row} 行：客户字段不支持列表类型")
        missing = _missing(col, t)
        if op == "is_empty":
            return missing
        if op == "is_not_empty":
            return not_(missing)
        if op == "eq":
            return col == v
        if op == "ne":
            return or_(missing, col != v)
        if op in ("gt", "after"):
            return col > v
        if op == "gte":
            return col >= v
        if op in ("lt", "before"):
            return col < v
        if op == "lte":
            return col <= v
        if op == "between":
            return col.between(self.value_for(leaf, leaf.value[0]), self.value_for(leaf, leaf.value[1]))
        if op == "in":
            return col.in_([self.value_for(leaf, x) for x in leaf.value])
        if op == "not_in":
            return or_(missing, col.not_in([self.value_for(leaf, x) for x in leaf.value]))
        if op == "contains":
            return col.contains(v, autoescape=True)
        if op == "not_contains":
            return or_(missing, not_(col.contains(v, autoescape=True)))
        if op == "starts_with":
            return col.startswith(v, autoescape=True)
        if op == "ends_with":
            return col.endswith(v, autoescape=True)
        if op == "regex":
            return col.regexp_match(v)
        if op == "within_days":  # age in [0, N days], exactly as the predicate and durable compute it
            return col.between(self.value_for(leaf, self.now - timedelta(days=int(leaf.value))),
                               self.value_for(leaf, self.now))
        raise NotExpressible(f"第 {leaf.row} 行：操作符 {op} 不能用于客户筛选")

    def all_of(self, parts):
        return and_(*parts)

    def any_of(self, parts):
        return or_(*parts)

    def always(self):
        return true()


def to_sql(node: Node, column_for: ColumnFor, now: datetime,
           value_for: Callable = lambda leaf, value: value) -> ColumnElement:
    """`value_for(leaf, value)` adapts a parsed value to the column (e.g. a datetime to a date)."""
    return _SqlCompiler(column_for, now, value_for).compile(node)
