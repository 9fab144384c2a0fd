"""The Python predicate and the trace: every operator on every type it allows, missing values,
precedence, and what a dry run shows. CASES is reused by the matcher tests against durable_rules."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from rules.conditions import OPERATORS, compile_predicate, explain, parse_conditions

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=timezone.utc)
DAY = timedelta(days=1)
FIELDS = [
    {"name": "t", "type": "text", "label": "文本"},
    {"name": "n", "type": "number", "label": "数值"},
    {"name": "b", "type": "boolean", "label": "布尔"},
    {"name": "d", "type": "datetime", "label": "时间"},
    {"name": "l", "type": "list", "label": "列表"},
]
ISO = "2024-05-01T00:00:00+00:00"
MAY1 = datetime(2024, 5, 1, tzinfo=timezone.utc)

# (field, op, row value, event value, expected)
CASES = [
    ("t", "eq", "abc", "abc", True), ("t", "eq", "abc", "abd", False), ("t", "eq", "", "", True),
    ("t", "ne", "abc", "abd", True), ("t", "ne", "abc", "abc", False),
    ("t", "in", "a,b", "b", True), ("t", "in", ["a", "b"], "c", False),
    ("t", "not_in", ["a", "b"], "c", True), ("t", "not_in", ["a"], "a", False),
    ("t", "contains", "你好", "说你好呀", True), ("t", "contains", "a.c", "abc", False), ("t", "contains", "a.c", "xa.cx", True),
    ("t", "not_contains", "x", "abc", True), ("t", "not_contains", "b", "abc", False),
    ("t", "starts_with", "(a", "(ab", True), ("t", "starts_with", "b", "ab", False),
    ("t", "ends_with", "*", "ab*", True), ("t", "ends_with", "a", "ab", False),
    ("t", "is_empty", None, "", True), ("t", "is_empty", None, "a", False),
    ("t", "is_not_empty", None, "a", True), ("t", "is_not_empty", None, "", False),
    ("t", "regex", r"^\d{3}$", "123", True), ("t", "regex", r"b", "abc", True), ("t", "regex", r"^b", "abc", False),
    ("n", "eq", "100", 100, True), ("n", "eq", "100", 100.0, True), ("n", "eq", "1.5", 1, False),
    ("n", "ne", "3", 4, True), ("n", "ne", "3", 3, False),
    ("n", "gt", "4", 5, True), ("n", "gt", "4", 4, False), ("n", "gte", "4", 4, True), ("n", "gte", "4", 3.9, False),
    ("n", "lt", "4", 3, True), ("n", "lt", "4", 4, False), ("n", "lte", "4", 4, True), ("n", "lte", "-1", 0, False),
    ("n", "between", ["1", "3"], 1, True), ("n", "between", ["1", "3"], 3, True), ("n", "between", ["1", "3"], 3.01, False),
    ("n", "in", "1,2", 2, True), ("n", "in", "1,2", 3, False), ("n", "not_in", "1,2", 3, True), ("n", "not_in", "1,2", 1.0, False),
    ("n", "is_empty", None, 0, False), ("n", "is_not_empty", None, 0, True),
    ("b", "eq", "true", True, True), ("b", "eq", "是", False, False), ("b", "ne", "true", False, True), ("b", "ne", "false", False, False),
    ("b", "is_empty", None, False, False), ("b", "is_not_empty", None, False, True),
    ("d", "before", ISO, MAY1 - timedelta(microseconds=1), True), ("d", "before", ISO, MAY1, False),
    ("d", "after", ISO, MAY1 + timedelta(microseconds=1), True), ("d", "after", ISO, MAY1, False),
    ("d", "between", [ISO, "2024-05-02T00:00:00+00:00"], MAY1, True),
    ("d", "between", [ISO, "2024-05-02T00:00:00+00:00"], MAY1 + 2 * DAY, False),
    ("d", "within_days", "7", NOW - 7 * DAY, True), ("d", "within_days", "7", NOW - 7 * DAY - timedelta(microseconds=1), False),
    ("d", "within_days", "7", NOW, True), ("d", "within_days", "7", NOW + timedelta(seconds=1), False),
    ("d", "is_empty", None, NOW, False), ("d", "is_not_empty", None, NOW, True),
    ("l", "contains", "vip", ["a", "vip"], True), ("l", "contains", "vip", ["vipx"], False), ("l", "contains", "3", [3, "x"], True),
    ("l", "contains", "3", [3.0], True), ("l", "contains", "true", [True], True),
    ("l", "not_contains", "vip", ["a"], True), ("l", "not_contains", "vip", [], True), ("l", "not_contains", "a", ["a"], False),
    ("l", "in", "x,y", ["a", "y"], True), ("l", "in", "x,y", ["a"], False), ("l", "in", "x", [], False),
    ("l", "not_in", "x,y", ["a"], True), ("l", "not_in", "x,y", ["x"], False),
    ("l", "is_empty", None, [], True), ("l", "is_empty", None, ["a"], False),
    ("l", "is_not_empty", None, ["a"], True), ("l", "is_not_empty", None, [], False),
]


def leaf(field, op, value):
    return parse_conditions([{"field": field, "op": op, "value": value}], FIELDS)


@pytest.mark.parametrize("field,op,value,actual,expected", CASES)
def test_every_operator_on_every_type(field, op, value, actual, expected):
    node = leaf(field, op, value)
    assert compile_predicate(node)({field: actual}, NOW) is expected
    assert explain(node, {field: actual}, NOW)[0] is expected


def test_every_allowed_operator_and_type_is_covered():
    covered = {(f["type"], op) for name, op, *_ in CASES for f in FIELDS if f["name"] == name}
    allowed = {(t, key) for key, op in OPERATORS.items() for t in op.types}
    assert allowed == covered


NEGATIVE = {"is_empty", "ne", "not_in", "not_contains"}


@pytest.mark.parametrize("field,op,value", [case[:3] for case in CASES])
def test_missing_or_none_is_false_except_empty_and_negative_operators(field, op, value):
    predicate = compile_predicate(leaf(field, op, value))
    assert predicate({}, NOW) is (op in NEGATIVE)
    assert predicate({field: None}, NOW) is (op in NEGATIVE)


def _abc(a, b, c, brackets):
    rows = [{"field": "n", "op": "eq", "value": 1, "join": "or", "lparen": int(brackets)},
            {"field": "t", "op": "eq", "value": "x", "join": "and", "rparen": int(brackets)},
            {"field": "b", "op": "eq", "value": True}]
    data = {"n": 1 if a else 0, "t": "x" if b else "y", "b": c}
    return compile_predicate(parse_conditions(rows, FIELDS))(data, NOW)


@pytest.mark.parametrize("a", [True, False])
@pytest.mark.parametrize("b", [True, False])
@pytest.mark.parametrize("c", [True, False])
def test_precedence_and_brackets(a, b, c):
    assert _abc(a, b, c, brackets=False) is (a or (b and c))      # A 或者 B 并且 C
    assert _abc(a, b, c, brackets=True) is ((a or b) and c)       # (A 或者 B) 并且 C


def test_no_rows_always_match():
    node = parse_conditions([], FIELDS)
    assert compile_predicate(node)({}, NOW) is True
    assert explain(node, {}, NOW) == (True, [])


def test_seed_acceptance_examples():
    fields = [{"name": "status", "type": "text", "label": "修改状态"}, {"name": "score", "type": "number", "label": "问卷评分"},
              {"name": "vip", "type": "number", "label": "VIP等级"}]
    status = compile_predicate(parse_conditions([{"field": "status", "op": "eq", "value": "1"}], fields))
    assert status({"status": "1"}, NOW) and not status({"status": "2"}, NOW)
    survey = compile_predicate(parse_conditions([
        {"lparen": 1, "field": "score", "op": "gt", "value": "4", "join": "and"},
        {"field": "vip", "op": "eq", "value": "3", "rparen": 1}], fields))
    assert survey({"score": 5, "vip": 3}, NOW)
    assert not survey({"score": 4, "vip": 3}, NOW) and not survey({"score": 5, "vip": 2}, NOW) and not survey({}, NOW)


def test_trace_shows_every_row_with_expected_and_actual():
    node = parse_conditions([
        {"field": "n", "op": "gt", "value": "4", "join": "or"},
        {"field": "t", "op": "contains", "value": "vip", "join": "and"},
        {"field": "d", "op": "within_days", "value": 3},
        {"field": "b", "op": "is_empty"},
    ], FIELDS)
    matched, trace = explain(node, {"n": 5, "t": "普通", "b": True}, NOW)
    assert matched is True  # row 1 alone suffices, yet every row is reported
    assert [t.row for t in trace] == [1, 2, 3, 4]
    first = trace[0].as_dict()
    assert first == {"row": 1, "field": "n", "field_label": "数值", "op": "gt", "op_label": "大于",
                     "expected": "4", "actual": "5", "missing": False, "result": True}
    assert (trace[1].op_label, trace[1].expected, trace[1].actual, trace[1].result) == ("包含", "vip", "普通", False)
    assert (trace[2].op_label, trace[2].expected, trace[2].actual, trace[2].missing, trace[2].result) == \
        ("最近N天内", "3 天", "（空）", True, False)
    assert (trace[3].op_label, trace[3].expected, trace[3].actual, trace[3].result) == ("为空", "", "是", False)


def test_trace_displays_lists_and_datetimes():
    node = parse_conditions([{"field": "l", "op": "in", "value": ["a", "b"], "join": "and"},
                             {"field": "d", "op": "before", "value": ISO}], FIELDS)
    matched, trace = explain(node, {"l": ["b"], "d": MAY1 - DAY}, NOW)
    assert matched and trace[0].expected == "a、b" and trace[0].actual == "b"
    # shown in the configured zone (UTC+8 by default), like every time a marketer reads
    assert trace[1].expected == "2024-05-01 08:00:00" and trace[1].actual == "2024-04-30 08:00:00"
