"""客户档案 filter at scale: 1,000,000 customers with 3 custom fields on SQLite.

Loads N customers into a fresh migrated SQLite database (executemany chunks; custom fields
可投资资产 (number), 风险偏好 (enum) and 会员等级 (number) in the `attrs` JSON column), then times
the 客户档案 list query (crm.customers.listing.list_customers: count + first page of 20, newest
first) for a custom-field range plus a built-in field:

    可投资资产 介于 5,000,000 与 5,200,000  并且  城市 = 上海

p50 of 5 runs with the expression index that crm.customers.fields creates for the custom
field, then the same with that index dropped, and the ratio.

    .venv/bin/python bench/customers_filter.py                  # 1M customers
    .venv/bin/python bench/customers_filter.py --customers 200000

Bounded: the load is chunked; each measurement is 5 runs (well under 3 minutes in total).
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text  # noqa: E402

from config.db import Database  # noqa: E402
from crm.customers import enums, fields  # noqa: E402
from crm.customers.listing import ListQuery, list_customers  # noqa: E402
from web.migrate import upgrade  # noqa: E402

CITIES = ["上海", "北京", "广州", "深圳", "杭州", "成都", "武汉", "南京", "西安", "重庆"]
RISKS = ["low", "mid", "high"]
CHUNK = 20_000
PERMS = {"customers.view", "customers.view_all"}
ROWS = [{"field": "aum", "op": "between", "value": ["5000000", "5200000"], "join": "and"},
        {"field": "city", "op": "eq", "value": "上海"}]


def load(db: Database, n: int) -> float:
    started = time.perf_counter()
    rnd = random.Random(3)
    with db.write() as s:
        e = enums.create_enum(s, {"code": "risk", "name": "风险偏好", "items": "low=保守\nmid=稳健\nhigh=进取"})
        for data in ({"key": "aum", "label": "可投资资产", "type": "number"},
                     {"key": "risk", "label": "风险偏好", "type": "enum", "enum_id": e.id},
                     {"key": "level", "label": "会员等级", "type": "number"}):
            f = fields.create_field(s, data)
            fields.drop_index(s, f.key)  # bulk load first, index once afterwards
    sql = ("INSERT INTO customer (name, mobile, gender, city, source, status, tag_score, follow_count, attrs, "
           "created_at, updated_at) VALUES (?, ?, '', ?, '', 'active', 0, 0, ?, ?, ?)")
    raw = db.engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("BEGIN")
        for start in range(0, n, CHUNK):
            rows = []
            for i in range(start, min(n, start + CHUNK)):
                attrs = '{"aum": %d, "risk": "%s", "level": %d}' % (rnd.randint(0, 20_000_000), rnd.choice(RISKS),
                                                                   rnd.randint(1, 5))
                day = f"2025-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d} 08:00:00.000000"
                rows.append((f"客户{i}", f"13{i:09d}", rnd.choice(CITIES), attrs, day, day))
            cur.executemany(sql, rows)
        cur.execute("COMMIT")
        cur.close()
    finally:
        raw.close()
    with db.write() as s:
        for key, kind in (("aum", "number"), ("risk", "enum"), ("level", "number")):
            fields.create_index(s, key, kind)
        s.execute(text("ANALYZE"))
    return time.perf_counter() - started


def measure(db: Database, runs: int = 5) -> tuple[float, int]:
    times, total = [], 0
    for _ in range(runs):
        with db.read() as s:
            t0 = time.perf_counter()
            page = list_customers(s, None, PERMS, ListQuery(view="all", rows=ROWS))
            times.append((time.perf_counter() - t0) * 1000)
            total = page["total"]
    return statistics.median(times), total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        upgrade(url)
        db = Database(url)
        seconds = load(db, args.customers)
        print(f"loaded {args.customers:,} customers (3 custom fields, indexes built) in {seconds:.1f} s")
        with_index, total = measure(db)
        print(f"filter 可投资资产 介于 5,000,000–5,200,000 并且 城市 = 上海: {total:,} matches")
        print(f"  with the expression index:    p50 {with_index:8.1f} ms (count + first page, 5 runs)")
        with db.write() as s:
            fields.drop_index(s, "aum")
        without, total2 = measure(db)
        assert total2 == total
        print(f"  without the expression index: p50 {without:8.1f} ms")
        print(f"  ratio: {without / with_index:.1f}× faster with the index")
        db.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
