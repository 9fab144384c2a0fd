"""Parsing condition rows: coercion of form values, precedence, brackets and every error message."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from rules.conditions import (OPERATOR_LABELS, OPERATORS, Always, And, Comparison, ConditionError,
                              ConditionErrors, Or, operators_metadata, parse_conditions)

FIELDS = [
    {"name": "status", "type": "text", "label": "修改状态", "required": True, "remark": ""},
    {"name": "score", "type": "number", "label": "问卷评分"},
    {"name": "vip", "type": "number", "label": "VIP等级"},
    {"name": "active", "type": "boolean", "label": "已激活"},
    {"name": "paid_at", "type": "datetime", "label": "支付时间"},
    {"name": "tags", "type": "list", "label": "标签"},
]


def row(field, op, value=None, lparen=0, rparen=0, join="and"):
    return {"lparen": lparen, "field": field, "op": op, "value": value, "rparen": rparen, "join": join}


def message(rows) -> str:
    with pytest.raises(ConditionError) as caught:
        parse_conditions(rows, FIELDS)
    return caught.value.message


def test_no_rows_is_always():
    assert parse_conditions([], FIELDS) == Always()
    assert parse_conditions(None, FIELDS) == Always()


def test_seed_examples():
    assert parse_conditions([row("status", "eq", "1")], FIELDS) == Comparison(1, "status", "text", "修改状态", "eq", "1")
    node = parse_conditions([row("score", "gt", "4", lparen=1), row("vip", "eq", "3", rparen=1)], FIELDS)
    assert node == And((Comparison(1, "score", "number", "问卷评分", "gt", 4),
                        Comparison(2, "vip", "number", "VIP等级", "eq", 3)))


def test_and_binds_tighter_than_or_and_brackets_override():
    a, b, c = row("vip", "eq", 1, join="or"), row("vip", "eq", 2), row("vip", "eq", 3)
    plain = parse_conditions([a, dict(b, join="and"), c], FIELDS)          # A 或者 B 并且 C
    assert isinstance(plain, Or) and isinstance(plain.items[1], And)
    grouped = parse_conditions([dict(a, lparen=1), dict(b, rparen=1, join="and"), c], FIELDS)  # (A 或者 B) 并且 C
    assert isinstance(grouped, And) and isinstance(grouped.items[0], Or)
    assert [leaf.row for leaf in grouped.items[0].items] == [1, 2]


def test_nested_same_kind_groups_flatten_and_chinese_joins():
    rows = [row("vip", "eq", 1, lparen=2, join="并且"), row("vip", "eq", 2, rparen=1, join="并且"), row("vip", "eq", 3, rparen=1)]
    node = parse_conditions(rows, FIELDS)
    assert isinstance(node, And) and len(node.items) == 3
    assert parse_conditions([row("vip", "eq", 1, join="或者"), row("vip", "eq", 2)], FIELDS) == Or(
        (Comparison(1, "vip", "number", "VIP等级", "eq", 1), Comparison(2, "vip", "number", "VIP等级", "eq", 2)))


def test_last_join_is_ignored_and_bracket_strings_accepted():
    node = parse_conditions([row("vip", "eq", 1, lparen="((", join="or"), row("vip", "eq", 2, rparen="))", join="bogus-but-last")], FIELDS)
    assert isinstance(node, Or)


@pytest.mark.parametrize("field,op,raw,expected", [
    ("score", "gt", "100", 100),
    ("score", "lte", " 2.5 ", 2.5),
    ("score", "between", ["1", "5"], (1, 5)),
    ("score", "between", "1,5", (1, 5)),
    ("score", "in", "1，2,2", (1, 2)),
    ("active", "eq", "true", True),
    ("active", "ne", "否", False),
    ("status", "in", ["a", "b"], ("a", "b")),
    ("status", "eq", "", ""),
    ("status", "is_empty", "ignored", None),
    ("tags", "contains", "vip", "vip"),
    ("tags", "in", ["a", 3], ("a", "3")),
    ("paid_at", "before", "2024-05-01T08:00:00+00:00", datetime(2024, 5, 1, 8, tzinfo=timezone.utc)),
    ("paid_at", "after", "2024-05-01 08:00", datetime(2024, 5, 1, 0, tzinfo=timezone.utc)),  # console zone: Shanghai
    ("paid_at", "within_days", "7", 7),
    ("status", "regex", r"^\d+$", r"^\d+$"),
])
def test_values_are_coerced_to_the_field_type(field, op, raw, expected):
    leaf = parse_conditions([row(field, op, raw)], FIELDS)
    assert leaf.value == expected and type(leaf.value) is type(expected)


@pytest.mark.parametrize("rows,expected", [
    ([row("status", "eq", 1), row("vip", "eq", "abc")], "第 2 行：字段「VIP等级」是数值，值「abc」不是数字"),
    ([row("foo", "eq", 1)], "第 1 行：事件中没有字段「foo」"),
    ([row("", "eq", 1)], "第 1 行：请选择字段"),
    ([row("vip", "like", 1)], "第 1 行：不认识的操作符「like」"),
    ([row("active", "gt", 1)], "第 1 行：字段「已激活」是布尔，不能使用「大于」"),
    ([row("status", "gt", 1)], "第 1 行：字段「修改状态」是文本，不能使用「大于」"),
    ([row("tags", "starts_with", "a")], "第 1 行：字段「标签」是列表，不能使用「开头是」"),
    ([row("vip", "eq", 1, rparen=1), row("vip", "eq", 2), row("vip", "eq", 3, rparen=1)], "括号不匹配：第 1 行多了一个右括号"),
    ([row("vip", "eq", 1), row("vip", "eq", 2), row("vip", "eq", 3, rparen=1)], "括号不匹配：第 3 行多了一个右括号"),
    ([row("vip", "eq", 1, lparen=1), row("vip", "eq", 2)], "括号不匹配：第 1 行的左括号没有对应的右括号"),
    ([row("vip", "eq", 1, lparen=-1)], "第 1 行：左括号数量「-1」无效"),
    ([row("vip", "eq", 1, rparen="x")], "第 1 行：右括号数量「x」无效"),
    ([row("status", "regex", "a(")], "第 1 行：正则表达式「a(」无效"),
    ([row("status", "regex", "a" * 201)], "第 1 行：正则表达式太长"),
    ([row("vip", "between", ["1"])], "第 1 行：「介于」需要两个值（最小值和最大值）"),
    ([row("vip", "between", ["5", "1"])], "第 1 行：「介于」的最小值「5」大于最大值「1」"),
    ([row("vip", "in", [])], "第 1 行：「属于」的值列表不能为空"),
    ([row("vip", "not_in", " , ")], "第 1 行：「不属于」的值列表不能为空"),
    ([row("status", "contains", "")], "第 1 行：「包含」需要填写值"),
    ([row("vip", "eq", None)], "第 1 行：「等于」需要填写值"),
    ([row("vip", "eq", "nan")], "第 1 行：字段「VIP等级」是数值，值「nan」不是有效数字"),
    ([row("vip", "eq", str(2 ** 60))], "超出可精确比较的范围"),
    ([row("active", "eq", "maybe")], "第 1 行：字段「已激活」是布尔，值「maybe」不是“是/否”"),
    ([row("paid_at", "before", "yesterday")], "第 1 行：字段「支付时间」是时间，值「yesterday」不是时间"),
    ([row("paid_at", "within_days", "1.5")], "第 1 行：字段「支付时间」是时间，天数「1.5」应为 1 到 36500 之间的整数"),
    ([row("paid_at", "within_days", "x")], "天数「x」不是整数"),
    ([row("status", "eq", [1])], "第 1 行：字段「修改状态」是文本，值「[1]」不是文本"),
    ([row("vip", "eq", 1, join="xor"), row("vip", "eq", 2)], "第 1 行：连接符「xor」只能是「并且」或「或者」"),
    (["oops"], "第 1 行：格式不正确"),
])
def test_error_messages_name_the_row_and_problem(rows, expected):
    assert expected in message(rows)


def test_error_row_attribute_and_not_a_list():
    with pytest.raises(ConditionError) as caught:
        parse_conditions([row("vip", "eq", 1), row("foo", "eq", 1)], FIELDS)
    assert caught.value.row == 2 and caught.value.errors == {"conditions": caught.value.message}
    with pytest.raises(ConditionError) as caught:
        parse_conditions({"field": "vip"}, FIELDS)
    assert caught.value.row is None and "条件格式不正确" in caught.value.message


def test_all_row_errors_are_collected():
    with pytest.raises(ConditionErrors) as caught:
        parse_conditions([row("foo", "eq", 1), row("vip", "eq", 1), row("vip", "gt", "abc")], FIELDS)
    assert [p.row for p in caught.value.problems] == [1, 3]
    assert caught.value.message == "第 1 行：事件中没有字段「foo」；第 3 行：字段「VIP等级」是数值，值「abc」不是数字"


def test_operator_metadata_for_the_console():
    assert OPERATOR_LABELS == {
        "eq": "等于", "ne": "不等于", "gt": "大于", "gte": "大于等于", "lt": "小于", "lte": "小于等于",
        "between": "介于", "in": "属于", "not_in": "不属于", "contains": "包含", "not_contains": "不包含",
        "starts_with": "开头是", "ends_with": "结尾是", "is_empty": "为空", "is_not_empty": "不为空",
        "regex": "正则匹配", "before": "早于", "after": "晚于", "within_days": "最近N天内"}
    meta = {m["key"]: m for m in operators_metadata()}
    assert meta["between"]["arity"] == "two" and meta["in"]["arity"] == "many" and meta["is_empty"]["arity"] == "none"
    assert "boolean" not in OPERATORS["gt"].types and "list" in OPERATORS["contains"].types
    assert OPERATORS["within_days"].types == ("datetime",)
