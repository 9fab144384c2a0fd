"""The matcher: all matching strategies in order, reloads, fallbacks, limits, memory, threads."""
from __future__ import annotations

import threading
from datetime import datetime, timezone

import pytest

from engine.matcher import CompiledStrategy, PythonMatcher, build_matcher, check_limits
from engine.matcher.limits import MAX_LIST_VALUES, RULESET_IDENTICAL_TESTS
from rules.conditions import parse_conditions
from tests.rules.test_conditions_predicate import CASES, FIELDS as TYPED_FIELDS, NOW

durable_backend = pytest.importorskip("engine.matcher.durable_backend")
DurableMatcher = durable_backend.DurableMatcher

FIELDS = [
    {"name": "status", "type": "text", "label": "修改状态"},
    {"name": "score", "type": "number", "label": "问卷评分"},
    {"name": "vip", "type": "number", "label": "VIP等级"},
    {"name": "note", "type": "text", "label": "备注"},
]


def strategy(sid, rows, order=None, fields=FIELDS):
    return CompiledStrategy(sid, order if order is not None else (sid,), parse_conditions(rows, fields))


def status_is(value, join="and"):
    return {"field": "status", "op": "eq", "value": value, "join": join}


SEED = [
    strategy(1, [status_is("1")]),                                            # 修改状态 = 1
    strategy(2, [{"lparen": 1, "field": "score", "op": "gt", "value": "4"},   # (问卷评分 > 4 并且 VIP等级 = 3)
                 {"field": "vip", "op": "eq", "value": "3", "rparen": 1}]),
]


@pytest.fixture(params=["durable", "python"])
def matcher(request):
    return DurableMatcher() if request.param == "durable" else PythonMatcher()


def test_backends():
    assert DurableMatcher().backend == "durable_rules" and PythonMatcher().backend == "python"


def test_seed_examples(matcher):
    matcher.load("form", SEED)
    assert matcher.match("form", {"status": "1", "score": 5, "vip": 3}, NOW) == [1, 2]
    assert matcher.match("form", {"status": "1", "score": 4, "vip": 3}, NOW) == [1]
    assert matcher.match("form", {"status": "0", "score": 4.5, "vip": 3}, NOW) == [2]
    assert matcher.match("form", {"status": "0"}, NOW) == []
    assert matcher.match("other", {"status": "1"}, NOW) == []


def test_all_matches_in_the_given_order(matcher):
    strategies = [strategy(sid, [status_is("1")], order=(9 - sid, sid)) for sid in range(1, 9)]
    strategies.append(strategy(20, [], order=(4, 0)))  # no rows: always matches, sorts by its key
    matcher.load("e", strategies)
    assert matcher.match("e", {"status": "1"}, NOW) == [8, 7, 6, 20, 5, 4, 3, 2, 1]
    assert matcher.match("e", {"status": "2"}, NOW) == [20]


def test_equal_order_keys_keep_the_list_order(matcher):
    matcher.load("e", [strategy(5, [], order=(1,)), strategy(3, [], order=(1,))])
    assert matcher.match("e", {}, NOW) == [5, 3]


def test_reload_replaces_and_empty_removes(matcher):
    matcher.load("e", SEED)
    matcher.load("e", [strategy(3, [status_is("2")])])  # strategy 1 disabled, 2 deleted, 3 added
    assert matcher.match("e", {"status": "1", "score": 5, "vip": 3}, NOW) == []
    assert matcher.match("e", {"status": "2"}, NOW) == [3]
    matcher.load("e", [])
    assert matcher.match("e", {"status": "2"}, NOW) == []


def test_other_event_types_are_untouched_by_a_reload(matcher):
    matcher.load("a", [strategy(1, [status_is("1")])])
    matcher.load("b", [strategy(2, [status_is("1")])])
    matcher.load("a", [])
    assert matcher.match("b", {"status": "1"}, NOW) == [2]


@pytest.mark.parametrize("field,op,value,actual,expected", CASES)
def test_durable_agrees_with_the_predicate_on_every_operator(field, op, value, actual, expected):
    matcher = DurableMatcher()
    matcher.load("e", [CompiledStrategy(1, (1,), parse_conditions([{"field": field, "op": op, "value": value}], TYPED_FIELDS))])
    assert matcher.match("e", {field: actual}, NOW) == ([1] if expected else [])
    negative = op in ("is_empty", "ne", "not_in", "not_contains")
    assert matcher.match("e", {}, NOW) == ([1] if negative else [])
    assert matcher.match("e", {field: None}, NOW) == ([1] if negative else [])


def test_what_durable_cannot_express_runs_in_python_transparently():
    matcher = DurableMatcher()
    matcher.load("e", [
        strategy(1, [{"field": "note", "op": "regex", "value": r"^\d+$"}]),
        strategy(2, [{"field": "note", "op": "not_contains", "value": "x"}]),
        strategy(3, [{"field": "note", "op": "contains", "value": "50%"}]),   # % has no $mt literal
        strategy(4, [{"field": "note", "op": "eq", "value": 'say "hi"'}]),    # durable misreads quotes
        strategy(5, [{"field": "note", "op": "contains", "value": "5"}]),
        strategy(6, []),
    ])
    assert matcher.routes("e") == {1: "python", 2: "python", 3: "python", 4: "python", 5: "durable_rules", 6: "python"}
    assert matcher.match("e", {"note": "150%"}, NOW) == [2, 3, 5, 6]
    assert matcher.match("e", {"note": "12345"}, NOW) == [1, 2, 5, 6]
    assert matcher.match("e", {"note": 'say "hi"'}, NOW) == [2, 4, 6]
    # An event text durable would misread ("\n" arrives as "n") is matched by the predicates.
    assert matcher.match("e", {"note": "a\n5"}, NOW) == [2, 5, 6]
    assert matcher.match("e", {"note": "n"}, NOW) == [2, 6]


def test_an_event_meeting_too_many_sibling_tests_is_still_answered():
    """70 true "score > k" tests make durable fail with error 303; the answer must not change."""
    matcher = DurableMatcher()
    strategies = [strategy(k, [{"field": "score", "op": "gt", "value": k}]) for k in range(1, 71)]
    matcher.load("e", strategies)
    assert set(matcher.routes("e").values()) == {"durable_rules"}
    for attempt in range(durable_backend.MAX_ERRORS):
        assert matcher.match("e", {"score": 1000}, NOW) == list(range(1, 71))
        assert matcher.match("e", {"score": 3}, NOW) == [1, 2]
    assert set(matcher.routes("e").values()) == {"python"}  # it keeps failing: Python until the next load
    matcher.load("e", strategies[:10])
    assert matcher.match("e", {"score": 1000}, NOW) == list(range(1, 11))
    assert set(matcher.routes("e").values()) == {"durable_rules"}


def test_ruleset_budget_moves_overflow_to_python():
    matcher = DurableMatcher()
    count = RULESET_IDENTICAL_TESTS + 60  # 256 identical conditions crash durable_rules
    matcher.load("e", [strategy(sid, [status_is("1"), {"field": "score", "op": "gte", "value": 0}]) for sid in range(1, count + 1)])
    routes = matcher.routes("e")
    assert list(routes.values()).count("durable_rules") == RULESET_IDENTICAL_TESTS
    assert matcher.match("e", {"status": "1", "score": 1}, NOW) == list(range(1, count + 1))
    assert matcher.match("e", {"status": "0", "score": 1}, NOW) == []


def test_memory_stays_flat_over_200_reloads():
    matcher = DurableMatcher()
    strategies = [strategy(sid, [status_is(str(sid % 5), join="or"), {"field": "score", "op": "gt", "value": sid}])
                  for sid in range(1, 51)]

    def rss_kb():
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * 4
    expected = sorted({sid for sid in range(1, 51) if sid % 5 == 1 or sid < 10})
    for _ in range(20):  # warm-up: allocator pools, code paths
        matcher.load("e", strategies)
        matcher.match("e", {"status": "1", "score": 10}, NOW)
    before = rss_kb()
    for _ in range(200):
        matcher.load("e", strategies)
        assert matcher.match("e", {"status": "1", "score": 10}, NOW) == expected
        matcher.match("e", {"status": "3", "score": 2}, NOW)
    grown = rss_kb() - before
    assert matcher.state_size() == 1  # one live ruleset, no facts left behind
    # Without deleting state first this grows by ~680 KB per reload (136 MB here).
    assert grown < 16 * 1024, f"RSS grew {grown} KB over 200 reloads"


def test_concurrent_matching(matcher):
    matcher.load("form", SEED)
    errors = []

    def work(n):
        for i in range(200):
            data = {"status": str(i % 2), "score": 5, "vip": 3 if n % 2 else 2}
            expected = ([1] if i % 2 else []) + ([2] if n % 2 else [])
            if matcher.match("form", data, NOW) != expected:
                errors.append((n, i))
    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    matcher.load("other", SEED)  # a reload of another type while matching
    for thread in threads:
        thread.join()
    assert errors == []


def test_build_matcher_prefers_durable_and_falls_back():
    assert build_matcher().backend == "durable_rules"
    assert build_matcher(prefer_durable=False).backend == "python"
    # A module that cannot be imported stands for a Python where durable_rules does not build.
    fallback = build_matcher(backend_module="engine.matcher.no_such_backend")
    assert isinstance(fallback, PythonMatcher)
    fallback.load("form", SEED)
    assert fallback.match("form", {"status": "1", "score": 5, "vip": 3}, NOW) == [1, 2]


def test_check_limits_refuses_what_no_engine_should_take():
    ok = parse_conditions([status_is("1")], FIELDS)
    assert check_limits(ok, FIELDS) == []
    big_list = parse_conditions([{"field": "vip", "op": "in", "value": list(range(MAX_LIST_VALUES + 1))}], FIELDS)
    assert check_limits(big_list) == [f"第 1 行：「VIP等级」的值列表有 {MAX_LIST_VALUES + 1} 个值，最多 {MAX_LIST_VALUES} 个",
                                      f"对字段「VIP等级」的判断太多（{MAX_LIST_VALUES + 1} 项，最多 100 项），请合并或拆分条件"]
    repeated = parse_conditions([status_is("1"), {"field": "vip", "op": "eq", "value": 1}, status_is("1")], FIELDS)
    assert check_limits(repeated) == ["第 3 行与第 1 行的条件完全相同，请删除重复的条件"]
    # The same row under different brackets is ordinary logic, not a repeat.
    factored = parse_conditions([dict(status_is("1"), lparen=1), {"field": "vip", "op": "eq", "value": 1, "rparen": 1, "join": "or"},
                                 dict(status_is("1"), lparen=1), {"field": "vip", "op": "eq", "value": 2, "rparen": 1}], FIELDS)
    assert check_limits(factored) == []
    wide = [{"name": f"f{i}", "type": "text", "label": f"字段{i}"} for i in range(260)]
    assert check_limits(ok, wide) == ["该事件有 260 个字段，超过上限 250 个，请精简事件字段后再配置策略"]
    many_rows = parse_conditions([{"field": "vip", "op": "eq", "value": i} for i in range(51)], FIELDS)
    assert "条件共 51 行，最多 50 行，请拆分为多个策略" in check_limits(many_rows)


def test_a_strategy_whose_only_test_is_empty_works_on_durable():
    """durable loops on a rule testing only "$nex"; every rule also tests a marker, so it is allowed."""
    matcher = DurableMatcher()
    node = parse_conditions([{"field": "note", "op": "is_empty"}], FIELDS)
    assert check_limits(node, FIELDS) == []
    matcher.load("e", [CompiledStrategy(1, (1,), node)])
    assert matcher.routes("e") == {1: "durable_rules"}
    assert matcher.match("e", {}, NOW) == [1] and matcher.match("e", {"note": "x"}, NOW) == []


def test_the_fired_strategies_come_back_in_order_with_python_only_ones_between():
    m = DurableMatcher()
    # 2 is not expressible in durable (regex) and sits between durable ones in the marketer's order
    regex = {"field": "note", "op": "regex", "value": "^a"}
    m.load("e", [strategy(3, [status_is("1")], order=(3,)), strategy(2, [regex], order=(2,)),
                 strategy(1, [status_is("1")], order=(1,)), strategy(4, [status_is("2")], order=(4,))])
    assert m.routes("e") == {1: "durable_rules", 2: "python", 3: "durable_rules", 4: "durable_rules"}
    assert m.match("e", {"status": "1", "note": "abc"}, NOW) == [1, 2, 3]
    assert m.match("e", {"status": "1", "note": "x"}, NOW) == [1, 3]


def test_a_ruleset_durable_refuses_is_matched_in_python(monkeypatch):
    def refuse(name, text):
        raise RuntimeError("refused")

    monkeypatch.setattr(durable_backend.durable_rules_engine, "create_ruleset", refuse)
    m = DurableMatcher()
    m.load("e", SEED)
    assert m.match("e", {"status": "1", "score": 5, "vip": 3}, NOW) == [1, 2]
    assert m.match("e", {"status": "2", "score": 1, "vip": 3}, NOW) == []
