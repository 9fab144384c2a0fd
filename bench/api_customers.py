"""客户 API overhead: what /api/v1/customers costs on top of the crm services it calls.

Builds a fresh migrated SQLite database under a temp directory with N customers (each with two
tags, half of them owned by a 业务员), then times, in-process through the Flask test client with a
bearer token, and directly against the service in the same database:
- a list page (100 rows, sorted by -tag_score) — API vs crm.customers.listing.list_customers;
- a condition-row search (城市 = 上海 或 杭州, 标签分值 ≥ 10) — API vs the same ListQuery;
- 打标签 on 1,000 customers and removing it again — API vs crm.tags.apply.apply_tags/remove_tags.
Prints milliseconds per call and the ratio API / service (the cost of auth, parsing, scope checks,
records with tags and owner names, masking and JSON).

    .venv/bin/python bench/api_customers.py                  # 20,000 customers
    .venv/bin/python bench/api_customers.py --customers 10000 --runs 5

Bounded: --customers at most 200,000; each measurement runs --runs times; no network.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

CITIES = ["上海", "北京", "广州", "深圳", "杭州", "成都"]


def build(tmp: Path, n: int):
    from sqlalchemy import insert

    from config.settings import Settings
    from crm.customers.models import Customer
    from crm.people import service as people
    from crm.tags.models import CustomerTag, Tag, TagCategory
    from web import create_app
    from web.migrate import upgrade

    url = f"sqlite:///{tmp / 'bench.db'}"
    upgrade(url)
    app = create_app(Settings(var_dir=tmp, database_url=url, secret_key="bench", run_background=False,
                              secure_cookies=False))
    db = app.extensions["ckb"].services.db
    people.ensure_builtin_roles(db)
    people.create_user(db, "bench", "Bench12345", is_admin=True)
    token = people.create_token(db, "bench", "压测")
    rnd = random.Random(7)
    with db.write() as s:
        cat = TagCategory(name="压测")
        s.add(cat)
        s.flush()
        tags = [Tag(category_id=cat.id, name=f"标签{i}", score=5 * (i % 4)) for i in range(20)]
        spare = Tag(category_id=cat.id, name="批量标签", score=1)
        s.add_all([*tags, spare])
        s.flush()
        for start in range(0, n, 5000):  # executemany: a fresh database numbers them 1..n
            chunk = range(start + 1, min(n, start + 5000) + 1)
            s.execute(insert(Customer), [dict(id=i, name=f"客户{i}", city=rnd.choice(CITIES), tag_score=rnd.randint(0, 30),
                                              owner_id=1 if i % 2 else None, status="active", attrs={})
                                         for i in chunk])
            s.execute(insert(CustomerTag), [dict(customer_id=i, tag_id=t.id, source="manual") for i in chunk
                                            for t in rnd.sample(tags, 2)])
        spare_id = spare.id
    return app, db, token, spare_id


def timed(fn, runs: int) -> float:
    fn()  # warm caches and compiled statements
    started = time.perf_counter()
    for _ in range(runs):
        fn()
    return (time.perf_counter() - started) * 1000 / runs


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    n = max(2_000, min(args.customers, 200_000))
    from crm.customers.listing import ListQuery, list_customers
    from crm.people.permissions import ALL_PERMISSIONS
    from crm.tags.apply import apply_tags, remove_tags

    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        app, db, token, spare = build(Path(tmp), n)
        print(f"built {n} customers in {time.perf_counter() - started:.1f}s")
        client = app.test_client()
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        rows = [{"lparen": 1, "field": "city", "op": "eq", "value": "上海", "join": "or"},
                {"field": "city", "op": "eq", "value": "杭州", "rparen": 1, "join": "and"},
                {"field": "tag_score", "op": "gte", "value": 10}]
        ids = list(range(1, 1001))

        def api(method, path, body=None):
            resp = client.open(path, method=method, headers=headers,
                               data=json.dumps(body) if body is not None else None)
            assert resp.status_code == 200, resp.get_data(as_text=True)[:300]

        def service_list(q):
            with db.read() as s:
                list_customers(s, 1, ALL_PERMISSIONS, q)

        def service_tags():
            with db.write() as s:
                apply_tags(s, ids, [spare], 1)
            with db.write() as s:
                remove_tags(s, ids, [spare], 1)

        cases = [
            ("list 100 rows", lambda: api("GET", "/api/v1/customers?size=100&sort=-tag_score"),
             lambda: service_list(ListQuery(sort="-tag_score", per_page=100))),
            ("search rows", lambda: api("POST", "/api/v1/customers/search", {"rows": rows, "size": 100}),
             lambda: service_list(ListQuery(rows=rows, per_page=100))),
            ("tag+untag 1000", lambda: (api("POST", "/api/v1/customers/tags/add", {"ids": ids, "tag_ids": [spare]}),
                                        api("POST", "/api/v1/customers/tags/remove", {"ids": ids, "tag_ids": [spare]})),
             service_tags),
        ]
        print(f"{'case':<16}{'API ms':>10}{'service ms':>12}{'ratio':>8}")
        for name, via_api, via_service in cases:
            a, s = timed(via_api, args.runs), timed(via_service, args.runs)
            print(f"{name:<16}{a:>10.1f}{s:>12.1f}{a / s:>8.2f}")
        db.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
