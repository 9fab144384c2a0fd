"""Seeding the benchmark database through the same services the console uses.

20 event types with typed fields, one app, and 1,000 enabled strategies (50 per event type)
whose conditions are eq / gt / in / contains rows on those fields, each with one immediate
「写日志」 step. Conditions are two rows joined by 并且 most of the time, so one event matches a
handful of its type's 50 strategies (the figure is measured and printed, not assumed).
"""
from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone

EVENT_TYPES = 20
STRATEGIES_PER_TYPE = 50
STATUSES = ["new", "paid", "refund", "closed"]
CHANNELS = ["抖音", "表单", "电话", "订单", "收款码"]
TAGS = ["新客", "老客", "复购", "投诉", "高价值"]
FIELDS = [
    {"name": "customer", "type": "text", "label": "客户", "required": True},
    {"name": "status", "type": "text", "label": "状态"},
    {"name": "channel", "type": "text", "label": "渠道"},
    {"name": "amount", "type": "number", "label": "金额"},
    {"name": "level", "type": "number", "label": "等级"},
    {"name": "vip", "type": "boolean", "label": "VIP"},
    {"name": "tags", "type": "list", "label": "标签"},
    {"name": "paid_at", "type": "datetime", "label": "支付时间"},
]


def _row(rng: random.Random) -> dict:
    kind = rng.choice(["eq", "gt", "in", "contains", "eq_level"])
    if kind == "eq":
        return {"field": "status", "op": "eq", "value": rng.choice(STATUSES)}
    if kind == "gt":
        return {"field": "amount", "op": "gt", "value": rng.randint(100, 900)}
    if kind == "in":
        return {"field": "channel", "op": "in", "value": rng.sample(CHANNELS, 2)}
    if kind == "contains":
        return {"field": "tags", "op": "contains", "value": rng.choice(TAGS)}
    return {"field": "level", "op": "eq", "value": rng.randint(1, 5)}


def conditions(rng: random.Random) -> list[dict]:
    rows: list[dict] = []
    while len(rows) < 2:
        row = _row(rng)
        if all(r["field"] != row["field"] for r in rows):
            rows.append(row)
    return [dict(r, join="and", lparen=0, rparen=0) for r in rows]


def event_data(rng: random.Random, seq: int) -> dict:
    paid = datetime(2024, 6, 1, tzinfo=timezone.utc) + timedelta(minutes=rng.randint(0, 60 * 24 * 30))
    return {"customer": f"C{seq:08d}", "status": rng.choice(STATUSES), "channel": rng.choice(CHANNELS),
            "amount": rng.randint(0, 1000), "level": rng.randint(1, 5), "vip": rng.random() < 0.3,
            "tags": rng.sample(TAGS, rng.randint(0, 2)), "paid_at": paid.isoformat()}


def event_code(i: int) -> str:
    return f"bench.type{i:02d}"


def seed(runtime) -> dict:
    """Creates the event types, the app and the strategies; returns {"app_key", "secret", "strategies"}."""
    from engine.authoring import create_strategy
    from engine.lifecycle import set_enabled
    from events.apps import create_app_record
    from events.definitions import create_definition
    from rules.groups import create_group

    rng = random.Random(20240601)
    svc = runtime.services
    with svc.db.write() as s:
        app, secret = create_app_record(s, svc.secret_box, {"name": "压测应用", "ip_allowlist": ["127.0.0.1/32"]})
        app_key = app.app_key
        definitions = [create_definition(s, {"name": f"压测事件{i:02d}", "code": event_code(i), "fields": FIELDS}).id
                       for i in range(EVENT_TYPES)]
        group_id = create_group(s, "压测策略").id
    count = 0
    for i, definition_id in enumerate(definitions):
        with svc.db.write() as s:
            ids = []
            for n in range(STRATEGIES_PER_TYPE):
                st = create_strategy(s, {
                    "name": f"压测策略{i:02d}-{n:02d}", "group_id": group_id, "event_id": definition_id,
                    "conditions": conditions(rng),
                    "steps": [{"processor": "log", "config": {"message": "策略命中 ${customer} ${amount}", "level": "DEBUG"},
                               "timing": {"mode": "immediate"}}],
                }, runtime.registry, svc.settings.timezone, "bench")
                ids.append(st.id)
            set_enabled(s, ids, True)
            count += len(ids)
    runtime.invalidate()
    return {"app_key": app_key, "secret": secret, "strategies": count}


def expected_matches(runtime, samples: int = 400) -> float:
    """Average strategies matched per generated event, asked of the live matcher (no DB writes)."""
    from events.field_types import typed

    rng = random.Random(99)
    runtime.strategies.refresh(force=True)
    total = 0
    now = datetime.now(timezone.utc)
    for seq in range(samples):
        code = event_code(seq % EVENT_TYPES)
        data = typed(FIELDS, json.loads(json.dumps(event_data(rng, seq))), svc_tz(runtime))
        total += len(runtime.strategies.match(code, data, now))
    return total / samples


def svc_tz(runtime) -> str:
    return runtime.services.settings.timezone


if __name__ == "__main__":
    # python -m bench.seed, with CKB_* pointing at the benchmark's var dir: prints the app's keys.
    from config.settings import load_settings
    from engine.runtime import Runtime

    rt = Runtime.from_settings(load_settings())
    info = seed(rt)
    info["expected_matches"] = expected_matches(rt)
    print("SEEDJSON " + json.dumps(info))
