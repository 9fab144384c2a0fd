"""The durable_rules compiler: a tree → the JSON condition of one durable rule, plus the fact
encoding that condition expects. Pure JSON; only engine/matcher talks to durable_rules itself.

Facts the engine asserts look like {"ckb_fact": 1, "f_amount": 120, "age_f_paid_at": ..., ...}:
- every field key is prefixed (events may have fields called "id" or "sid", which durable owns);
- datetimes are integer microseconds since the epoch, so comparisons are exact;
- 最近N天内 compares a derived age (now − value, microseconds) computed in Python per event,
  because a durable rule cannot see "now";
- list fields carry their items as text (see values.item_text) and a derived length.
- every rule also tests the marker, so no rule's only test is "$nex" (that loops forever).

Measured on durable_rules 2.0.28 (see engine/matcher/limits.py for the counting limits):
- `$mt` is a full match with its own regex dialect: `( ) * + . ? [ { |` are special and match
  themselves inside a class (`[*]`); `%` cannot be written at all; an empty pattern is refused.
- strings containing a backslash, a double quote or a control character are decoded wrongly by
  durable's JSON reader ("\\n" arrives as "n"), so such values are not sent to durable.
What cannot be expressed raises NotExpressible and the matcher uses the Python predicate.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from rules.conditions.errors import NotExpressible
from rules.conditions.nodes import Comparison, Compiler, Node, comparisons
from rules.conditions.operators import BOOLEAN, DATETIME, LIST, NUMBER, TEXT
from rules.conditions.values import MAX_EXACT_NUMBER, item_text

MARKER = "ckb_fact"
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MICROSECOND = timedelta(microseconds=1)
_DAY_US = 86400 * 1_000_000
_REGEX_SPECIAL = frozenset("()*+.?[{|")
_UNSAFE_TEXT = re.compile(r'[\\"\x00-\x1f]')
_COMPARE = {"gt": "$gt", "gte": "$gte", "lt": "$lt", "lte": "$lte", "before": "$lt", "after": "$gt"}


def field_key(name: str) -> str:
    """A durable-safe, collision-free key for an event field name."""
    if re.fullmatch(r"[A-Za-z0-9_]+", name):
        return "f_" + name
    return "x_" + name.encode("utf-8").hex()


def age_key(name: str) -> str:
    return "age_" + field_key(name)


def len_key(name: str) -> str:
    return "len_" + field_key(name)


def micros(value: datetime) -> int:
    return (value - _EPOCH) // _MICROSECOND


def text_is_safe(text: str) -> bool:
    """True when durable's JSON reader gives the string back unchanged."""
    return _UNSAFE_TEXT.search(text) is None


def _number_is_safe(number) -> bool:
    return not isinstance(number, bool) and isinstance(number, (int, float)) and \
        not (isinstance(number, float) and not math.isfinite(number)) and abs(number) <= MAX_EXACT_NUMBER


def _rule_value(leaf: Comparison, value):
    if leaf.field_type == DATETIME:
        return micros(value)
    if isinstance(value, str) and not text_is_safe(value):
        raise NotExpressible(f"row {leaf.row}: text {value!r} cannot be sent to durable_rules")
    return value


def _literal_pattern(text: str) -> str:
    if not text or "%" in text or not text_is_safe(text):
        raise NotExpressible(f"{text!r} has no $mt literal")
    return "".join(f"[{c}]" if c in _REGEX_SPECIAL else c for c in text)


def _missing_or(key: str, cond: dict) -> dict:
    return {"$or": [{"$nex": {key: 1}}, cond]}


def _one_or_many(op: str, parts: list[dict]) -> dict:
    return parts[0] if len(parts) == 1 else {op: parts}


def _list_condition(leaf: Comparison, key: str, lkey: str) -> dict:
    values = (leaf.value,) if leaf.op in ("contains", "not_contains") else leaf.value
    values = [_rule_value(leaf, value) for value in values]
    if leaf.op in ("contains", "in"):
        return {"$iany": {key: _one_or_many("$or", [{"$i": value} for value in values])}}
    # "no item is one of the values": durable's $iall is false on an empty list, so say so.
    none_of = {"$iall": {key: _one_or_many("$and", [{"$neq": {"$i": value}} for value in values])}}
    return {"$or": [{"$nex": {lkey: 1}}, {lkey: 0}, none_of]}


def _empty_condition(leaf: Comparison, key: str, lkey: str, empty: bool) -> dict:
    if leaf.field_type == LIST:
        return {"$or": [{"$nex": {lkey: 1}}, {lkey: 0}]} if empty else {"$gt": {lkey: 0}}
    if leaf.field_type == TEXT:
        return {"$or": [{"$nex": {key: 1}}, {key: ""}]} if empty else {"$neq": {key: ""}}
    return {"$nex": {key: 1}} if empty else {"$ex": {key: 1}}


class _DurableCompiler(Compiler[dict]):
    def comparison(self, leaf: Comparison) -> dict:
        op, key, lkey = leaf.op, field_key(leaf.field), len_key(leaf.field)
        if op in ("is_empty", "is_not_empty"):
            return _empty_condition(leaf, key, lkey, op == "is_empty")
        if op == "regex" or (op == "not_contains" and leaf.field_type == TEXT):
            raise NotExpressible(f"row {leaf.row}: {op} on text is matched in Python")
        if leaf.field_type == LIST:
            return _list_condition(leaf, key, lkey)
        if op == "within_days":
            akey = age_key(leaf.field)
            return {"$and": [{"$gte": {akey: 0}}, {"$lte": {akey: leaf.value * _DAY_US}}]}
        if op in ("contains", "starts_with", "ends_with"):
            literal = _literal_pattern(leaf.value)
            pattern = {"contains": ".*{}.*", "starts_with": "{}.*", "ends_with": ".*{}"}[op].format(literal)
            return {"$mt": {key: pattern}}
        if op == "between":
            lo, hi = (_rule_value(leaf, value) for value in leaf.value)
            return {"$and": [{"$gte": {key: lo}}, {"$lte": {key: hi}}]}
        if op in ("in", "not_in"):
            values = [_rule_value(leaf, value) for value in leaf.value]
            if op == "in":
                return _one_or_many("$or", [{key: value} for value in values])
            return _missing_or(key, _one_or_many("$and", [{"$neq": {key: value}} for value in values]))
        value = _rule_value(leaf, leaf.value)
        if op == "eq":
            return {key: value}
        if op == "ne":
            return _missing_or(key, {"$neq": {key: value}})
        return {_COMPARE[op]: {key: value}}

    def all_of(self, parts):
        return {"$and": parts}

    def any_of(self, parts):
        return {"$or": parts}

    def always(self):
        return {MARKER: 1}


def to_durable(node: Node) -> dict:
    """The `m` condition of a durable rule for this tree; raises NotExpressible."""
    compiled = _DurableCompiler().compile(node)
    return compiled if compiled == {MARKER: 1} else {"$and": [{MARKER: 1}, compiled]}


@dataclass(frozen=True)
class FactField:
    name: str
    type: str
    key: str
    age: str | None      # set when a 最近N天内 row needs the derived age
    length: str | None   # set for list fields


def fact_plan(nodes) -> tuple[FactField, ...]:
    """Which fields the facts for these trees must carry (only those tested: durable refuses
    facts with more than 254 properties, and smaller facts are faster)."""
    seen: dict[str, FactField] = {}
    for node in nodes:
        for leaf in comparisons(node):
            old = seen.get(leaf.field)
            needs_age = leaf.op == "within_days" or bool(old and old.age)
            seen[leaf.field] = FactField(leaf.field, leaf.field_type, field_key(leaf.field),
                                         age_key(leaf.field) if needs_age else None,
                                         len_key(leaf.field) if leaf.field_type == LIST else None)
    return tuple(seen.values())


def _encode_value(ftype: str, value):
    """The JSON value for durable, or raise NotExpressible when it would not compare faithfully."""
    if ftype == TEXT and isinstance(value, str) and text_is_safe(value):
        return value
    if ftype == NUMBER and _number_is_safe(value):
        return value
    if ftype == BOOLEAN and isinstance(value, bool):
        return value
    if ftype == DATETIME and isinstance(value, datetime) and value.tzinfo is not None:
        return micros(value)
    if ftype == LIST and isinstance(value, (list, tuple)):
        items = [item_text(item) for item in value]
        if all(text_is_safe(item) for item in items):
            return items
    raise NotExpressible(f"a {ftype} value of type {type(value).__name__} is matched in Python")


def encode_fact(data: dict, plan: tuple[FactField, ...], now: datetime) -> dict:
    """The fact for one event; raises NotExpressible when a value cannot be sent faithfully,
    in which case the caller matches that event with the Python predicates."""
    fact = {MARKER: 1}
    now_us = None
    for field in plan:
        value = data.get(field.name)
        if value is None:
            continue
        encoded = _encode_value(field.type, value)
        fact[field.key] = encoded
        if field.age:
            now_us = micros(now) if now_us is None else now_us
            fact[field.age] = now_us - encoded
        if field.length:
            fact[field.length] = len(encoded)
    return fact
