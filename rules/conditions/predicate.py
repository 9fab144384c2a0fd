"""The Python compiler: a predicate for live matching and a row-by-row trace for people.

The predicate is built once from closures (no tree walking per event). `explain` evaluates every
row, not just until the answer is known, because "why didn't it fire" wants every row's verdict.

Missing values: when the field is absent or None, every comparison is false except 为空 (true)
and the negative ones 不等于 / 不属于 / 不包含 (true: "the field is not 3" holds when there is no
field). The durable_rules compiler implements exactly the same rule.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any, Callable

from rules.conditions.nodes import Comparison, Compiler, Node
from rules.conditions.operators import LIST, OPERATORS, TEXT
from rules.conditions.values import display, item_text

Predicate = Callable[[dict, datetime], bool]
LeafTest = Callable[[Any, datetime], bool]


def _is_blank(value, field_type: str) -> bool:
    if value is None:
        return True
    if field_type == TEXT:
        return value == ""
    if field_type == LIST:
        return len(value) == 0
    return False


def _list_test(op: str, value) -> LeafTest:
    if op in ("contains", "not_contains"):
        wanted = frozenset((value,))
    else:
        wanted = frozenset(value)
    positive = op in ("contains", "in")

    def test(items, now):
        hit = any(item_text(item) in wanted for item in items)
        return hit if positive else not hit
    return test


def leaf_test(leaf: Comparison) -> LeafTest:
    """The test of one comparison on a present (not None) value; `now` only matters for 最近N天内."""
    op, value, ftype = leaf.op, leaf.value, leaf.field_type
    if op == "is_empty":
        return lambda x, now: _is_blank(x, ftype)
    if op == "is_not_empty":
        return lambda x, now: not _is_blank(x, ftype)
    if ftype == LIST:
        return _list_test(op, value)
    if op == "within_days":
        span = timedelta(days=value)
        # The same integer-microsecond arithmetic the durable fact encoding uses (age in [0, span]).
        return lambda x, now: timedelta(0) <= now - x <= span
    simple: dict[str, LeafTest] = {
        "eq": lambda x, now: x == value,
        "ne": lambda x, now: x != value,
        "gt": lambda x, now: x > value,
        "gte": lambda x, now: x >= value,
        "lt": lambda x, now: x < value,
        "lte": lambda x, now: x <= value,
        "before": lambda x, now: x < value,
        "after": lambda x, now: x > value,
        "contains": lambda x, now: value in x,
        "not_contains": lambda x, now: value not in x,
        "starts_with": lambda x, now: x.startswith(value),
        "ends_with": lambda x, now: x.endswith(value),
    }
    if op in simple:
        return simple[op]
    if op == "between":
        lo, hi = value
        return lambda x, now: lo <= x <= hi
    if op in ("in", "not_in"):
        members = frozenset(value)
        return (lambda x, now: x in members) if op == "in" else (lambda x, now: x not in members)
    if op == "regex":
        search = re.compile(value).search
        return lambda x, now: search(x) is not None
    raise ValueError(f"operator {op!r} has no Python test")


def _leaf_predicate(leaf: Comparison) -> Predicate:
    test, name = leaf_test(leaf), leaf.field
    missing = OPERATORS[leaf.op].true_when_missing

    def predicate(data: dict, now: datetime) -> bool:
        value = data.get(name)
        if value is None:
            return missing
        return test(value, now)
    return predicate


class _PredicateCompiler(Compiler[Predicate]):
    def comparison(self, leaf):
        return _leaf_predicate(leaf)

    def all_of(self, parts):
        parts = tuple(parts)
        return lambda data, now: all(part(data, now) for part in parts)

    def any_of(self, parts):
        parts = tuple(parts)
        return lambda data, now: any(part(data, now) for part in parts)

    def always(self):
        return lambda data, now: True


def compile_predicate(node: Node) -> Predicate:
    """`predicate(data, now) -> bool` over data already coerced to the declared field types."""
    return _PredicateCompiler().compile(node)


@dataclass(frozen=True)
class RowTrace:
    """One row's verdict for a dry run or "why didn't it fire"."""

    row: int
    field: str
    field_label: str
    op: str
    op_label: str
    expected: str      # the row's value as a marketer reads it
    actual: str        # what the event carried ("（空）" when missing)
    missing: bool
    result: bool

    def as_dict(self) -> dict:
        return asdict(self)


class _TraceCompiler(Compiler[Callable[[dict, datetime, list], bool]]):
    """Like the predicate, but evaluates every row and records it (no short-circuit)."""

    def comparison(self, leaf):
        predicate = _leaf_predicate(leaf)
        op = OPERATORS[leaf.op]
        expected = "" if op.arity == "none" else display(leaf.value)
        if leaf.op == "within_days":
            expected = f"{leaf.value} 天"

        def traced(data, now, out):
            actual = data.get(leaf.field)
            result = predicate(data, now)
            out.append(RowTrace(leaf.row, leaf.field, leaf.label, leaf.op, op.label, expected,
                                display(actual), actual is None, result))
            return result
        return traced

    def all_of(self, parts):
        return lambda data, now, out: all([part(data, now, out) for part in parts])

    def any_of(self, parts):
        return lambda data, now, out: any([part(data, now, out) for part in parts])

    def always(self):
        return lambda data, now, out: True


def explain(node: Node, data: dict, now: datetime) -> tuple[bool, list[RowTrace]]:
    """(matched, one RowTrace per row in row order)."""
    rows: list[RowTrace] = []
    matched = _TraceCompiler().compile(node)(data, now, rows)
    rows.sort(key=lambda trace: trace.row)
    return matched, rows


__all__ = ["compile_predicate", "explain", "leaf_test", "RowTrace", "Predicate"]
