"""Page latency of the 数据中心 (issue 10): p50/p99 of the home page, the daily report (when its
blueprint is on this branch), 私域运营看板, 生命周期漏斗, 同期群留存, RFM and a segment's customer list,
against a bare Flask page rendering a small template in the same run (the ratio is our work, not
Flask's), all through the in-process WSGI test client (no network). Also times the RFM / lifecycle
scoring pass (refresh_scores) over the generated population.

Generated data (SQLite under a temp dir): customers (60 % with a wechat_id, 50 owners), friends,
group members in 200 groups, a first lead per customer (5 channels, 5 scenes), paid / refunded /
cancelled orders over 180 days, and DailyMetric rows for 180 days × 6 metrics × (company, 50 users,
5 channels, 5 scenes, 200 groups).

    .venv/bin/python bench/dashboard_pages.py                       # 200k customers, 100k orders
    .venv/bin/python bench/dashboard_pages.py --customers 1000000 --orders 500000 --time-limit 900 --skip-live

Bounded: each load stops at --time-limit (the sizes reached are printed) and each page gets
--requests requests after 3 warm-ups.
"""
from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask import Flask, render_template_string  # noqa: E402
from sqlalchemy import func, insert, select  # noqa: E402

from analytics import rfm, rollup_store, snapshot  # noqa: E402
from analytics.models import DailyMetric  # noqa: E402
from commerce.orders.models import SalesOrder  # noqa: E402
from config.db import Database  # noqa: E402
from config.settings import Settings  # noqa: E402
from crm.customers.models import Customer  # noqa: E402
from crm.leads.models import Lead, LeadChannel, LeadScene  # noqa: E402
from crm.people import service as people  # noqa: E402
from devices.models import ChatGroup, ChatGroupMember, Friend, WechatAccount  # noqa: E402
from web.migrate import upgrade  # noqa: E402

CHUNK = 20_000
NOW = datetime.now(timezone.utc)
METRICS = ("gmv_fen", "buyers", "new_friends", "active_friends", "group_joins", "orders_paid")


class OutOfTime(Exception):
    pass


def _template(model, **required) -> dict:
    row = model(**required)
    return {c.name: getattr(row, c.name) for c in model.__table__.columns if c.name != "id"}


def _load(db: Database, model, rows_iter, deadline: float) -> int:
    n, batch = 0, []
    for row in rows_iter:
        batch.append(row)
        if len(batch) >= CHUNK:
            with db.write() as s:
                s.execute(insert(model.__table__), batch)
            n += len(batch)
            batch = []
            if time.perf_counter() > deadline:
                raise OutOfTime(n)
    if batch:
        with db.write() as s:
            s.execute(insert(model.__table__), batch)
        n += len(batch)
    return n


def generate(db: Database, args) -> dict:
    rnd = random.Random(7)
    deadline = time.perf_counter() + args.time_limit
    people.ensure_builtin_roles(db)
    owners = [people.create_user(db, f"bench{i}", "Bench12345", display_name=f"员工{i}").id for i in range(50)]
    with db.write() as s:
        chans = [LeadChannel(name=f"渠道{i}", code=f"c{i}") for i in range(5)]
        scenes = [LeadScene(name=f"场景{i}", key=f"s{i}", scene_type="WEB_FORM") for i in range(5)]
        acct = WechatAccount(wxid="wx_bench")
        s.add_all([*chans, *scenes, acct])
        s.flush()
        groups = [ChatGroup(account_id=acct.id, chatroom_id=f"r{i}", name=f"群{i}") for i in range(200)]
        s.add_all(groups)
        s.flush()
        chan_ids, scene_ids, group_ids, acct_id = [c.id for c in chans], [c.id for c in scenes], [g.id for g in groups], acct.id
    sizes = {}
    base = _template(Customer)

    def customers():
        for i in range(args.customers):
            yield {**base, "name": f"客户{i}", "wechat_id": f"wx{i}" if i % 5 < 3 else None, "owner_id": owners[i % 50],
                   "created_at": NOW - timedelta(days=rnd.randint(0, 180))}
    try:
        started = time.perf_counter()
        sizes["customers"] = _load(db, Customer, customers(), deadline)
        n = sizes["customers"]
        fb = _template(Friend, account_id=acct_id, wxid="x")
        sizes["friends"] = _load(db, Friend, ({**fb, "wxid": f"wx{i}" if i % 5 < 3 else f"f{i}",
                                               "customer_id": None if i % 5 < 3 else i + 1,
                                               "added_at": NOW - timedelta(days=rnd.randint(0, 180), seconds=rnd.randint(0, 86399))}
                                              for i in range(0, n, 2)), deadline)
        mb = _template(ChatGroupMember, group_id=1, wxid="x")
        sizes["members"] = _load(db, ChatGroupMember, ({**mb, "group_id": group_ids[i % 200], "wxid": f"wx{i}",
                                                        "joined_at": NOW - timedelta(days=rnd.randint(0, 180))}
                                                       for i in range(0, n, 3) if i % 5 < 3), deadline)
        lb = _template(Lead, scene_id=scene_ids[0])
        sizes["leads"] = _load(db, Lead, ({**lb, "scene_id": scene_ids[i % 5], "channel_id": chan_ids[(i // 5) % 5],
                                           "customer_id": i + 1, "created_at": NOW - timedelta(days=rnd.randint(0, 180))}
                                          for i in range(0, n, 2)), deadline)
        ob = _template(SalesOrder, order_no="x", customer_id=1)

        def orders():
            for i in range(args.orders):
                paid = NOW - timedelta(days=rnd.randint(0, 179), seconds=rnd.randint(0, 86399))
                status = rnd.choice(("paid", "completed", "completed", "shipped", "refunded", "cancelled"))
                total = rnd.randint(10, 2000) * 100
                yield {**ob, "order_no": f"B{i}", "customer_id": rnd.randint(1, n), "status": status,
                       "total_fen": total, "paid_fen": 0 if status == "cancelled" else total,
                       "refunded_fen": total if status == "refunded" else 0, "channel_id": chan_ids[i % 5],
                       "paid_at": None if status == "cancelled" else paid, "created_at": paid}
        sizes["orders"] = _load(db, SalesOrder, orders(), deadline)
        days = 0
        for d in range(args.metric_days):
            day = date.today() - timedelta(days=d)
            with db.write() as s:
                for m in METRICS:
                    values = {("company", 0): rnd.randint(100, 100000)}
                    values.update({("user", u): rnd.randint(0, 5000) for u in owners})
                    values.update({("channel", c): rnd.randint(0, 20000) for c in chan_ids})
                    values.update({("scene", c): rnd.randint(0, 20000) for c in scene_ids})
                    values.update({("group", g): rnd.randint(0, 3000) for g in group_ids})
                    rollup_store.put(s, day, m, values)
            days += 1
            if time.perf_counter() > deadline:
                raise OutOfTime(days)
        sizes["metric_days"] = days
    except OutOfTime:
        print(f"generation stopped at --time-limit; sizes reached: {sizes}")
    sizes["generation_s"] = round(time.perf_counter() - started, 1)
    with db.read() as s:
        sizes["metric_rows"] = s.execute(select(func.count()).select_from(DailyMetric)).scalar()
    return sizes


def timed(client, path: str, requests: int) -> list[float]:
    for _ in range(3):
        resp = client.get(path)
        assert resp.status_code == 200, (path, resp.status_code)
    out = []
    for _ in range(requests):
        t = time.perf_counter()
        client.get(path)
        out.append((time.perf_counter() - t) * 1000)
    return out


def summary(ms: list[float]) -> tuple[float, float]:
    ordered = sorted(ms)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def bare_app() -> Flask:
    app = Flask(__name__)

    @app.get("/")
    def page():
        return render_template_string("<html><body><h1>{{ t }}</h1><ul>{% for i in r %}<li>{{ i }}</li>{% endfor %}"
                                      "</ul></body></html>", t="看板", r=range(50))
    return app


def parse_args(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--metric-days", type=int, default=180)
    parser.add_argument("--skip-live", action="store_true", help="skip the pass before the snapshot (slow at 1M)")
    parser.add_argument("--time-limit", type=float, default=600)
    return parser.parse_args(argv)


def main() -> None:
    args = parse_args()
    from web import create_app

    with tempfile.TemporaryDirectory() as tmp:
        var = Path(tmp) / "var"
        url = f"sqlite:///{var}/bench.db"
        upgrade(url)
        settings = Settings(var_dir=var, database_url=url, secret_key="bench", run_background=False,
                            secure_cookies=False)
        app = create_app(settings)
        db = app.extensions["ckb"].services.db
        sizes = generate(db, args)
        print("sizes:", sizes)
        t = time.perf_counter()
        with db.write() as s:
            run = rfm.refresh_scores(s)
        print(f"refresh_scores: {time.perf_counter() - t:.1f} s for {run.customers} customers, {run.buyers} buyers")
        people.create_user(db, "admin", "Admin12345", is_admin=True)
        client = app.test_client()
        html = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)
        client.post("/login", data={"username": "admin", "password": "Admin12345", "csrf_token": token})
        base_p50, base_p99 = summary(timed(bare_app().test_client(), "/", args.requests))
        rules = {r.rule for r in app.url_map.iter_rules()}
        if not args.skip_live:
            measure(client, rules, min(args.requests, 10), base_p50, base_p99, "admin, computed live (no snapshot yet)")
        t = time.perf_counter()
        with db.write() as s:
            snapshot.rebuild(s)
        print(f"snapshot.rebuild (scoring pass + snapshot): {time.perf_counter() - t:.1f} s")
        measure(client, rules, args.requests, base_p50, base_p99, "admin, company-wide figures from the pass's snapshot")
        filtered = [f"/dashboards/funnel?channel_id={1}", "/dashboards/cohorts?scene_id=1"]
        measure(client, rules, args.requests, base_p50, base_p99, "admin, filtered (always live)", filtered)


PAGES = ["/", "/reports/daily", "/dashboards", "/dashboards/funnel", "/dashboards/cohorts", "/dashboards/rfm",
         "/dashboards/segment?kind=rfm&key=important_value"]


def measure(client, rules, requests: int, base_p50: float, base_p99: float, title: str, pages=PAGES) -> None:
    print(f"-- {title}")
    print(f"{'page':<52}{'p50 ms':>9}{'p99 ms':>9}{'p99/bare':>10}")
    print(f"{'bare Flask page':<52}{base_p50:>9.1f}{base_p99:>9.1f}{1:>10.1f}")
    for path in pages:
        if path.split("?")[0] not in rules:
            print(f"{path:<52}{'(not on this branch)':>28}")
            continue
        p50, p99 = summary(timed(client, path, requests))
        print(f"{path:<52}{p50:>9.1f}{p99:>9.1f}{p99 / base_p99:>10.1f}")


if __name__ == "__main__":
    main()
