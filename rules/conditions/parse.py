"""Condition rows (左括号 · 字段 · 操作符 · 值 · 右括号 · 连接符) → a validated tree.

Precedence is the usual one: 并且 binds tighter than 或者, brackets override. Every row is
checked before giving up, so the marketer sees all problems of a strategy at once.
"""
from __future__ import annotations

import re

from rules.conditions.errors import ConditionError, ConditionErrors
from rules.conditions.nodes import Always, And, Comparison, Node, Or
from rules.conditions.operators import OPERATORS
from rules.conditions import values as v

_JOINS = {"and": "and", "并且": "and", "且": "and", "&&": "and", "or": "or", "或者": "or", "或": "or", "||": "or"}
MAX_REGEX_LENGTH = 200


def _count(raw, row: int, what: str, bracket: str) -> int:
    """A bracket count: 0..n, or the brackets themselves ("((") as some forms send them."""
    if raw in (None, ""):
        return 0
    if isinstance(raw, str) and set(raw.strip()) <= {bracket}:
        return len(raw.strip())
    if isinstance(raw, bool):
        raise ConditionError(f"第 {row} 行：{what}数量「{raw}」无效", row)
    try:
        count = int(raw)
    except (TypeError, ValueError):
        raise ConditionError(f"第 {row} 行：{what}数量「{raw}」无效", row) from None
    if count < 0 or count != raw and not isinstance(raw, str):
        raise ConditionError(f"第 {row} 行：{what}数量「{raw}」无效", row)
    return count


def _value(row: int, field: dict, op_key: str, raw, tz: str):
    op, ftype, label = OPERATORS[op_key], field["type"], field.get("label") or field["name"]
    try:
        if op.arity == "none":
            return None
        if op_key == "within_days":
            return v.within_days(raw)
        if op.arity == "many":
            items = [v.scalar(ftype, item, tz) for item in v.many(raw)]
            if not items:
                raise ConditionError(f"第 {row} 行：「{op.label}」的值列表不能为空", row)
            return tuple(dict.fromkeys(items))
        if op.arity == "two":
            items = v.many(raw)
            if len(items) != 2:
                raise ConditionError(f"第 {row} 行：「介于」需要两个值（最小值和最大值）", row)
            lo, hi = (v.scalar(ftype, item, tz) for item in items)
            if lo > hi:
                raise ConditionError(f"第 {row} 行：「介于」的最小值「{v.display(lo)}」大于最大值「{v.display(hi)}」", row)
            return (lo, hi)
        if raw is None or (isinstance(raw, str) and raw == "" and op_key not in ("eq", "ne")):
            raise ConditionError(f"第 {row} 行：「{op.label}」需要填写值", row)
        value = v.scalar(ftype, raw, tz)
    except v.BadValue as exc:
        raise ConditionError(f"第 {row} 行：字段「{label}」是{v.type_label(ftype)}，{exc}", row) from None
    if op_key == "regex":
        if len(value) > MAX_REGEX_LENGTH:
            raise ConditionError(f"第 {row} 行：正则表达式太长（最多 {MAX_REGEX_LENGTH} 个字符）", row)
        try:
            re.compile(value)
        except re.error as exc:
            raise ConditionError(f"第 {row} 行：正则表达式「{value}」无效（{exc}）", row) from None
    return value


def _leaf(row: int, raw_row, by_name: dict, tz: str) -> Comparison:
    if not isinstance(raw_row, dict):
        raise ConditionError(f"第 {row} 行：格式不正确", row)
    name = str(raw_row.get("field") or "").strip()
    if not name:
        raise ConditionError(f"第 {row} 行：请选择字段", row)
    field = by_name.get(name)
    if field is None:
        raise ConditionError(f"第 {row} 行：事件中没有字段「{name}」", row)
    label, ftype = field.get("label") or name, field.get("type")
    op_key = str(raw_row.get("op") or "").strip()
    if op_key not in OPERATORS:
        raise ConditionError(f"第 {row} 行：不认识的操作符「{op_key}」", row)
    op = OPERATORS[op_key]
    if ftype not in op.types:
        raise ConditionError(f"第 {row} 行：字段「{label}」是{v.type_label(ftype)}，不能使用「{op.label}」", row)
    return Comparison(row, name, ftype, label, op_key, _value(row, field, op_key, raw_row.get("value"), tz))


def _join(row: int, raw_row) -> str:
    raw = raw_row.get("join") if isinstance(raw_row, dict) else None
    key = str(raw or "and").strip().lower()
    if key not in _JOINS:
        raise ConditionError(f"第 {row} 行：连接符「{raw}」只能是「并且」或「或者」", row)
    return _JOINS[key]


def _tokens(rows: list, fields: list[dict], tz: str) -> list:
    by_name = {f["name"]: f for f in fields if isinstance(f, dict) and f.get("name")}
    tokens, problems = [], []
    for index, raw_row in enumerate(rows):
        row = index + 1
        try:
            lparen = _count(raw_row.get("lparen") if isinstance(raw_row, dict) else 0, row, "左括号", "(")
            rparen = _count(raw_row.get("rparen") if isinstance(raw_row, dict) else 0, row, "右括号", ")")
            leaf = _leaf(row, raw_row, by_name, tz)
            join = _join(row, raw_row) if index < len(rows) - 1 else "and"  # the last join joins nothing
        except ConditionError as exc:
            problems.append(exc)
            continue
        tokens += [("(", row)] * lparen + [("leaf", leaf)] + [(")", row)] * rparen
        if index < len(rows) - 1:
            tokens.append((join, row))
    if problems:
        raise problems[0] if len(problems) == 1 else ConditionErrors(problems)
    return tokens


def _check_brackets(tokens: list) -> None:
    open_rows = []
    for kind, where in tokens:
        if kind == "(":
            open_rows.append(where)
        elif kind == ")":
            if not open_rows:
                raise ConditionError(f"括号不匹配：第 {where} 行多了一个右括号", where)
            open_rows.pop()
    if open_rows:
        row = open_rows[-1]
        raise ConditionError(f"括号不匹配：第 {row} 行的左括号没有对应的右括号", row)


class _Parser:
    """Recursive descent over the token list: or_expr := and_expr (或者 and_expr)*."""

    def __init__(self, tokens: list):
        self.tokens, self.pos = tokens, 0

    def _peek(self):
        return self.tokens[self.pos][0] if self.pos < len(self.tokens) else None

    def or_expr(self) -> Node:
        return self._chain("or", Or, self.and_expr)

    def and_expr(self) -> Node:
        return self._chain("and", And, self.atom)

    def _chain(self, join: str, cls, operand) -> Node:
        items = [operand()]
        while self._peek() == join:
            self.pos += 1
            items.append(operand())
        return _flatten(cls, items)

    def atom(self) -> Node:
        kind, payload = self.tokens[self.pos]
        self.pos += 1
        if kind == "(":
            inner = self.or_expr()
            self.pos += 1  # the matching ")", guaranteed by _check_brackets
            return inner
        return payload


def _flatten(cls, items: list[Node]) -> Node:
    if len(items) == 1:
        return items[0]
    flat = []
    for item in items:
        flat.extend(item.items if isinstance(item, cls) else (item,))
    return cls(tuple(flat))


def parse_conditions(rows: list[dict] | None, fields: list[dict], tz: str | None = None) -> Node:
    """Validate the rows against the event's fields and build the tree; no rows → Always().

    `tz` is the console's zone: a datetime typed without a zone is wall-clock time there.
    Raises ConditionError (or ConditionErrors with `.problems`) with a Chinese `.message`.
    """
    if not rows:
        return Always()
    if not isinstance(rows, list):
        raise ConditionError("条件格式不正确：应为条件行列表")
    tokens = _tokens(rows, fields, tz)
    _check_brackets(tokens)
    return _Parser(tokens).or_expr()
