"""Events per second: DurableMatcher vs PythonMatcher, 50 strategies on one event type.

Run: .venv/bin/python bench/match.py   (about 10 s; each backend gets a fixed time slice)
"""
from __future__ import annotations

import random
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.matcher import CompiledStrategy, PythonMatcher  # noqa: E402
from engine.matcher.durable_backend import DurableMatcher  # noqa: E402
from rules.conditions import parse_conditions  # noqa: E402

NOW = datetime(2024, 6, 1, tzinfo=timezone.utc)
SLICE_SECONDS = 4.0
FIELDS = [
    {"name": "status", "type": "text", "label": "状态"},
    {"name": "channel", "type": "text", "label": "渠道"},
    {"name": "amount", "type": "number", "label": "金额"},
    {"name": "level", "type": "number", "label": "等级"},
    {"name": "vip", "type": "boolean", "label": "VIP"},
    {"name": "paid_at", "type": "datetime", "label": "支付时间"},
    {"name": "tags", "type": "list", "label": "标签"},
]
ROW_MAKERS = [
    lambda r: {"field": "status", "op": "eq", "value": str(r.randint(0, 3))},
    lambda r: {"field": "channel", "op": "in", "value": r.sample(["抖音", "表单", "电话", "订单", "收款码"], 2)},
    lambda r: {"field": "channel", "op": "contains", "value": r.choice(["抖", "表", "单"])},
    lambda r: {"field": "amount", "op": "gt", "value": r.randint(0, 500)},
    lambda r: {"field": "level", "op": "between", "value": [1, r.randint(1, 5)]},
    lambda r: {"field": "vip", "op": "eq", "value": r.choice(["true", "false"])},
    lambda r: {"field": "paid_at", "op": "within_days", "value": r.randint(1, 30)},
    lambda r: {"field": "tags", "op": "contains", "value": r.choice(["新客", "老客", "复购"])},
]


def strategies(rng):
    out = []
    for sid in range(1, 51):
        rows = [rng.choice(ROW_MAKERS)(rng) | {"join": rng.choice(["and", "and", "or"])} for _ in range(rng.randint(1, 4))]
        out.append(CompiledStrategy(sid, (sid,), parse_conditions(rows, FIELDS)))
    return out


def events(rng, count=500):
    return [{"status": str(rng.randint(0, 3)), "channel": rng.choice(["抖音", "表单", "电话", "订单", "收款码"]),
             "amount": rng.randint(0, 1000), "level": rng.randint(0, 6), "vip": rng.random() < 0.3,
             "paid_at": NOW - timedelta(hours=rng.randint(0, 24 * 40)),
             "tags": rng.sample(["新客", "老客", "复购", "投诉"], rng.randint(0, 2))} for _ in range(count)]


def rate(matcher, sample) -> tuple[float, int]:
    done = matched = 0
    deadline = time.perf_counter() + SLICE_SECONDS
    start = time.perf_counter()
    while time.perf_counter() < deadline:
        for data in sample:
            matched += len(matcher.match("order_paid", data, NOW))
        done += len(sample)
    return done / (time.perf_counter() - start), matched / done


def main():
    rng = random.Random(7)
    loaded, sample = strategies(rng), events(rng)
    results = {}
    for matcher in (DurableMatcher(), PythonMatcher()):
        matcher.load("order_paid", loaded)
        results[matcher.backend] = rate(matcher, sample)
        per_second, avg = results[matcher.backend]
        print(f"{matcher.backend:14s} {per_second:10.0f} events/s  ({avg:.1f} matches per event)")
    routes = DurableMatcher()
    routes.load("order_paid", loaded)
    on_durable = list(routes.routes("order_paid").values()).count("durable_rules")
    print(f"strategies on durable_rules: {on_durable}/50")
    print(f"ratio durable_rules/python: {results['durable_rules'][0] / results['python'][0]:.2f}")


if __name__ == "__main__":
    main()
