"""Typed field validation prepared once per definition (events.field_types.FieldsValidator) and the
body depth check: the fast paths answer exactly what the full checks answer."""
from __future__ import annotations

import math

import pytest

from events.body import json_depth
from events.field_types import FieldsValidator, normalise

FIELDS = [{"name": "name", "type": "text", "label": "姓名", "required": True},
          {"name": "amount", "type": "number", "label": "金额"},
          {"name": "vip", "type": "boolean"},
          {"name": "paid_at", "type": "datetime", "label": "支付时间"},
          {"name": "tags", "type": "list", "label": "标签"}]


def test_values_in_their_stored_form_pass_unchanged():
    data = {"name": "张三", "amount": 12, "vip": False, "tags": ["a"], "extra": {"k": 1}}
    clean, errors = FieldsValidator(FIELDS).normalise(data, "Asia/Shanghai")
    assert errors == [] and clean == data and clean is not data


@pytest.mark.parametrize("data, expected", [
    ({"name": "x", "amount": "12"}, {"amount": 12}),
    ({"name": "x", "amount": "1.5"}, {"amount": 1.5}),
    ({"name": "x", "amount": 2.5}, {"amount": 2.5}),
    ({"name": 7}, {"name": "7"}),
    ({"name": True}, {"name": "true"}),
    ({"name": "x", "vip": "是"}, {"vip": True}),
    ({"name": "x", "vip": 0}, {"vip": False}),
    ({"name": "x", "paid_at": "2026-12-08T10:00:00"}, {"paid_at": "2026-12-08T02:00:00+00:00"}),
])
def test_conversions(data, expected):
    clean, errors = FieldsValidator(FIELDS).normalise(data, "Asia/Shanghai")
    assert errors == [] and {k: clean[k] for k in expected} == expected


@pytest.mark.parametrize("data, field, code", [
    ({}, "name", "missing"),
    ({"name": "  "}, "name", "missing"),
    ({"name": "x", "amount": True}, "amount", "type"),
    ({"name": "x", "amount": math.nan}, "amount", "type"),
    ({"name": "x", "amount": "abc"}, "amount", "type"),
    ({"name": "x", "vip": "maybe"}, "vip", "type"),
    ({"name": "x", "tags": "a,b"}, "tags", "type"),
    ({"name": "x", "paid_at": "yesterday"}, "paid_at", "type"),
    ({"name": ["x"]}, "name", "type"),
])
def test_each_problem_names_its_field(data, field, code):
    clean, errors = FieldsValidator(FIELDS).normalise(data, "Asia/Shanghai")
    assert [(e["field"], e["code"]) for e in errors] == [(field, code)]
    assert errors == normalise(FIELDS, data, "Asia/Shanghai")[1]
    assert "(" + field + ")" in errors[0]["message"]


def test_blank_optional_fields_are_left_out_of_checks():
    clean, errors = FieldsValidator(FIELDS).normalise({"name": "x", "amount": None, "paid_at": " "}, "UTC")
    assert errors == [] and clean["amount"] is None and clean["paid_at"] == " "


@pytest.mark.parametrize("value, depth", [
    (1, 0), ("s", 0), ({}, 1), ([], 1), ([[]], 2), ({"a": [1, {"b": 2}]}, 3), ([1, [2, [3, [4]]], {"x": {}}], 4),
])
def test_json_depth(value, depth):
    assert json_depth(value) == depth


def test_json_depth_of_a_deep_value_does_not_recurse():
    deep: list = []
    for _ in range(20_000):
        deep = [deep]
    assert json_depth(deep) == 20_001
