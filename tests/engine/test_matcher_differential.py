"""Differential test: DurableMatcher == PythonMatcher == explain() on random strategies and events.

Seeded random generation (not hypothesis) so the run is fast, bounded and reproducible; the
alphabet includes the characters that durable's regex and JSON reader treat specially.
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest

from engine.matcher import CompiledStrategy, PythonMatcher
from rules.conditions import ConditionError, NotExpressible, encode_fact, explain, fact_plan, parse_conditions
from rules.conditions.operators import operators_for_type

DurableMatcher = pytest.importorskip("engine.matcher.durable_backend").DurableMatcher

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=timezone.utc)
FIELDS = [
    {"name": "title", "type": "text", "label": "标题"},
    {"name": "city", "type": "text", "label": "城市"},
    {"name": "amount", "type": "number", "label": "金额"},
    {"name": "level", "type": "number", "label": "等级"},
    {"name": "vip", "type": "boolean", "label": "VIP"},
    {"name": "paid_at", "type": "datetime", "label": "支付时间"},
    {"name": "标签", "type": "list", "label": "标签"},
]
CHARS = ["a", "b", "c", "%", ".", "*", "(", "[", "|", "?", "你", "好", "😀", "$", "^", " "] * 3 + ["\\", "\"", "\n"]
NUMBERS = [-2, 0, 1, 1.5, 3, 100, 2 ** 40]


def _text(rng, min_len=0):
    return "".join(rng.choice(CHARS) for _ in range(rng.randint(min_len, 3)))


def _scalar(rng, ftype, form=False):
    if ftype == "text" or ftype == "list":
        return _text(rng, 1)
    if ftype == "number":
        number = rng.choice(NUMBERS)
        return str(number) if form and rng.random() < 0.5 else number
    if ftype == "boolean":
        return rng.choice([True, False, "true", "否"]) if form else rng.choice([True, False])
    moment = NOW + timedelta(days=rng.choice([-40, -10, -3, -1, 0, 1]), hours=rng.choice([-5, 0, 5]))
    return moment.isoformat() if form else moment


def _value(rng, ftype, op):
    if op in ("is_empty", "is_not_empty"):
        return None
    if op == "within_days":
        return rng.choice([1, 3, 10, "7"])
    if op == "regex":
        return rng.choice(["^a", "b$", "a.c", "你|好", r"\d"])
    if op in ("in", "not_in"):
        return [_scalar(rng, ftype, True) for _ in range(rng.randint(1, 3))]
    if op == "between":
        return sorted([_scalar(rng, ftype), _scalar(rng, ftype)], key=lambda x: x)
    return _scalar(rng, ftype, True)


def _rows(rng):
    rows = []
    for _ in range(rng.randint(0, 5)):
        field = rng.choice(FIELDS)
        op = rng.choice(operators_for_type(field["type"])).key
        value = _value(rng, field["type"], op)
        if op == "between" and field["type"] == "datetime":
            value = [v.isoformat() for v in value]
        rows.append({"lparen": 0, "field": field["name"], "op": op, "value": value, "rparen": 0,
                     "join": rng.choice(["and", "or"])})
    for _ in range(rng.randint(0, 2) if len(rows) > 1 else 0):
        i, j = sorted(rng.sample(range(len(rows)), 2))
        rows[i]["lparen"] += 1
        rows[j]["rparen"] += 1
    return rows


def _event(rng):
    data = {}
    for field in FIELDS:
        if rng.random() < 0.15:
            continue
        if rng.random() < 0.05:
            data[field["name"]] = None
        elif field["type"] == "list":
            data[field["name"]] = [rng.choice([_text(rng, 1), rng.choice(NUMBERS), True]) for _ in range(rng.randint(0, 3))]
        else:
            data[field["name"]] = _scalar(rng, field["type"]) if field["type"] != "text" else _text(rng)
    return data


def test_durable_python_and_explain_agree():
    rng = random.Random(20240601)
    durable_routed = compared = durable_events = 0
    durable = DurableMatcher()
    python = PythonMatcher()
    for round_no in range(50):
        strategies = []
        for sid in range(1, 31):
            try:
                node = parse_conditions(_rows(rng), FIELDS)
            except ConditionError:
                continue  # e.g. a random between with lo > hi after coercion
            strategies.append(CompiledStrategy(sid, (rng.randint(0, 3), sid), node))
        durable.load("evt", strategies)
        python.load("evt", strategies)
        durable_routed += sum(1 for route in durable.routes("evt").values() if route == "durable_rules")
        ordered = sorted(strategies, key=lambda s: s.order)
        plan = fact_plan([s.node for s in strategies])
        for _ in range(40):
            data = _event(rng)
            expected = [s.strategy_id for s in ordered if explain(s.node, data, NOW)[0]]
            assert python.match("evt", data, NOW) == expected, (round_no, data)
            assert durable.match("evt", data, NOW) == expected, (round_no, data, strategies)
            compared += 1
            try:
                encode_fact(data, plan, NOW)
                durable_events += 1
            except NotExpressible:
                pass
    assert compared == 2000
    # Most strategies and events really went through durable_rules, not the fallback.
    assert durable_routed > 700 and durable_events > 1000, (durable_routed, durable_events)
