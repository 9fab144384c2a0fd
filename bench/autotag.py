"""自动打标签 at scale: 1,000,000 customers × 50 auto-tag rules on SQLite.

Builds a fresh migrated SQLite database under a temp directory, loads N customers (executemany
chunks; built-in city/gender/source/follow_count plus two custom fields, 可投资资产 (number) and
风险偏好 (text), each with its expression index), defines 50 auto tags with varied rules (ranges,
equality, 属于, 包含标签 / 不包含标签 on earlier tags), then runs the full pass twice: the first run
inserts every link, the second finds nothing to change. Prints seconds per run, customer-rule
evaluations per second, links written, and a baseline: one bare
`INSERT INTO t SELECT id FROM customer WHERE <range on 可投资资产>` timed in the same database,
so the figure reads as "one full pass costs X bare range scans".

    .venv/bin/python bench/autotag.py                 # 1M customers, 50 rules
    .venv/bin/python bench/autotag.py --customers 100000 --time-limit 120

Bounded: generation is chunked and the passes stop (reporting what ran) after --time-limit seconds.
"""
from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text  # noqa: E402

from config.db import Database  # noqa: E402
from crm.customers import fields  # noqa: E402
from crm.tags import autotag, categories, scores, service  # noqa: E402
from web.migrate import upgrade  # noqa: E402

CITIES = ["上海", "北京", "广州", "深圳", "杭州", "成都", "武汉", "南京", "西安", "重庆"]
SOURCES = ["抖音", "表单", "电话", "订单", "收款码"]
RISKS = ["保守", "稳健", "平衡", "成长", "进取"]
ASSET_BUCKETS = [0, 50_000, 100_000, 200_000, 500_000, 1_000_000, 3_000_000, 5_000_000, 10_000_000, 50_000_000]
CHUNK = 20_000


class OutOfTime(Exception):
    pass


def load_customers(db: Database, n: int, seed: int = 7) -> float:
    rnd = random.Random(seed)
    started = time.perf_counter()
    with db.write() as s:
        a = fields.create_field(s, {"key": "investable_assets", "label": "可投资资产", "type": "number"})
        r = fields.create_field(s, {"key": "risk_level", "label": "风险偏好", "type": "text"})
        # Bulk load first, index after: building an index once is far cheaper than maintaining it per row.
        fields.drop_index(s, a.key)
        fields.drop_index(s, r.key)
    sql = ("INSERT INTO customer (name, mobile, gender, city, source, status, tag_score, follow_count, attrs, "
           "created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'active', 0, ?, ?, ?, ?)")
    raw = db.engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("BEGIN")
        for start in range(0, n, CHUNK):
            rows = []
            for i in range(start, min(n, start + CHUNK)):
                assets = rnd.randint(0, 20_000_000) if rnd.random() < 0.9 else rnd.randint(0, 200_000)
                attrs = '{"investable_assets": %d, "risk_level": "%s"}' % (assets, rnd.choice(RISKS))
                day = f"2025-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d} 08:00:00.000000"
                rows.append((f"客户{i}", f"13{i:09d}", rnd.choice("男女"), rnd.choice(CITIES), rnd.choice(SOURCES),
                             rnd.randint(0, 9), attrs, day, day))
            cur.executemany(sql, rows)
        cur.execute("COMMIT")
        cur.close()
    finally:
        raw.close()
    with db.write() as s:
        fields.create_index(s, "investable_assets", "number")
        fields.create_index(s, "risk_level", "text")
        s.execute(text("ANALYZE"))
    return time.perf_counter() - started


def _row(field, op, value, join="and"):
    return {"field": field, "op": op, "value": value, "join": join}


def define_rules(db: Database) -> list[int]:
    """50 auto tags: 9 asset ranges, 10 risk×asset, 10 built-in equality/属于, 6 follow-count,
    10 包含标签/不包含标签 on earlier tags, 5 mixed OR rules."""
    ids: list[int] = []
    with db.write() as s:
        cat = categories.create_category(s, {"name": "客户标签"}).id

        def tag(name, spec, score=1):
            t = service.create_tag(s, {"name": name, "kind": "auto", "category_id": cat, "score": score}, None)
            service.save_rule(s, t.id, spec, None)
            ids.append(t.id)
            return t.id

        asset_tags = []
        for lo, hi in zip(ASSET_BUCKETS, ASSET_BUCKETS[1:]):
            asset_tags.append(tag(f"可投资资产{lo}-{hi}", {"mode": "conditions", "rows": [
                _row("investable_assets", "gt", lo), _row("investable_assets", "lte", hi)]}, score=len(asset_tags)))
        for i, risk in enumerate(RISKS * 2):
            tag(f"{risk}型{i}", {"mode": "conditions", "rows": [
                _row("risk_level", "eq", risk), _row("investable_assets", "gte", ASSET_BUCKETS[i % 9])]})
        for city in CITIES[:6]:
            tag(f"{city}客户", {"mode": "conditions", "rows": [_row("city", "eq", city)]})
        for k in range(4):
            tag(f"来源组合{k}", {"mode": "conditions", "rows": [_row("source", "in", ",".join(SOURCES[k:k + 2])),
                                                               _row("gender", "eq", "男")]})
        for n in range(6):
            tag(f"跟进{n}次以上", {"mode": "conditions", "rows": [_row("follow_count", "gte", n + 3)]})
        for k in range(10):
            spec = {"mode": "conditions", "rows": [_row("city", "eq", CITIES[k])]}
            spec["include_tags" if k % 2 == 0 else "exclude_tags"] = [asset_tags[k % 9], asset_tags[(k + 3) % 9]]
            tag(f"依赖标签{k}", spec)
        for k in range(5):
            tag(f"或条件{k}", {"mode": "conditions", "rows": [
                {**_row("investable_assets", "gt", 15_000_000, "or"), "lparen": 1},
                {**_row("follow_count", "eq", k), "rparen": 1}, _row("gender", "eq", "女")]})
    assert len(ids) == 50, len(ids)
    return ids


def baseline(db: Database) -> float:
    """One bare range scan into a temp table: the unit a full pass is compared with."""
    with db.write() as s:
        s.execute(text("DROP TABLE IF EXISTS bench_t"))
        s.execute(text("CREATE TEMP TABLE bench_t (customer_id INTEGER PRIMARY KEY)"))
        started = time.perf_counter()
        s.execute(text("INSERT INTO bench_t SELECT id FROM customer WHERE "
                       "json_extract(customer.attrs, '$.\"investable_assets\"') > 100000 AND "
                       "json_extract(customer.attrs, '$.\"investable_assets\"') <= 500000"))
        seconds = time.perf_counter() - started
        s.execute(text("DROP TABLE bench_t"))
    return seconds


def timed_pass(db: Database, deadline: float) -> tuple[float, autotag.RunReport]:
    def progress(done, total):
        if time.perf_counter() > deadline:
            raise OutOfTime(f"time limit reached after {done}/{total} rules")

    started = time.perf_counter()
    report = autotag.run_auto_tags(db, progress=progress)
    return time.perf_counter() - started, report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--time-limit", type=float, default=600.0, help="seconds for the auto-tag passes")
    parser.add_argument("--keep", action="store_true", help="keep the database directory")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="ckb-bench-autotag-"))
    url = f"sqlite:///{workdir / 'bench.db'}"
    upgrade(url)
    db = Database(url)
    print(f"database: {workdir / 'bench.db'}")
    load = load_customers(db, args.customers)
    print(f"loaded {args.customers:,} customers in {load:.1f} s")
    tag_ids = define_rules(db)
    base = baseline(db)
    print(f"baseline: one bare INSERT … SELECT range scan = {base:.3f} s")
    deadline = time.perf_counter() + args.time_limit
    evaluations = args.customers * len(tag_ids)
    try:
        for label in ("first run (inserts)", "second run (no-op)"):
            seconds, report = timed_pass(db, deadline)
            print(f"{label}: {seconds:.2f} s for {len(report.runs)} rules; +{report.added:,} −{report.removed:,} links; "
                  f"{evaluations / seconds:,.0f} customer-rule evaluations/s; "
                  f"{seconds / base:.1f}× baseline ({seconds / len(report.runs) / base:.2f}× per rule)")
            if report.failed or report.skipped:
                print("  problems:", report.summary())
            slow = sorted(report.runs, key=lambda r: -r.seconds)[:3]
            print("  slowest rules: " + ", ".join(f"{r.name} {r.seconds:.2f}s" for r in slow))
    except OutOfTime as exc:
        print(f"stopped: {exc}")
        return 1
    with db.read() as s:
        print(f"tag_score drift after both runs: {scores.drift(s)} customers")
    db.dispose()
    if not args.keep:
        for path in workdir.iterdir():
            path.unlink()
        workdir.rmdir()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
