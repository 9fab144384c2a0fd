"""企业微信侧边栏 portrait at scale: `GET /api/crm/customers/<wxId>` over loopback HTTP at 1M customers.

Bulk-loads N customers into a fresh migrated SQLite database; a third are known by WeCom
external_userid (wecom_contact), a third by wechat_id, a third by a phone friend's wxid
(wechat_friend); each has 2 tags, every 5th an order and a follow-up. The real app is served on
127.0.0.1 (werkzeug, threaded) and a console session (a 业务员 who owns every customer, so the object
scope is in the query as in production) asks for random ids of all three kinds.

Baseline in the same run, same server, same session: a route added to this app only, that loads
one customer by primary key and answers its name (the floor of an authenticated customer read).
Prints p50/p99 of both and the ratio. Goal: portrait p99 ≤ 200 ms (seed 003's bar is 2 s).

    .venv/bin/python bench/wecom_sidebar.py                       # 1M customers, 1,000 requests each
    .venv/bin/python bench/wecom_sidebar.py --customers 100000 --requests 300

Bounded: chunked loads; the requests are sequential and capped (--requests ≤ 20,000).
"""
from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import requests  # noqa: E402
from flask import g, jsonify, request  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from config.settings import Settings  # noqa: E402
from crm.customers.models import Customer  # noqa: E402
from crm.people import service as people  # noqa: E402
from web.migrate import upgrade  # noqa: E402

CHUNK = 20_000
NOW = "2026-11-20 02:00:00.000000"


def _bulk(cur, sql: str, rows_for, n: int) -> None:
    for start in range(0, n, CHUNK):
        cur.executemany(sql, [rows_for(i) for i in range(start, min(n, start + CHUNK))])


def load(db, n: int, owner_id: int) -> float:
    started = time.perf_counter()
    raw = db.engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("BEGIN")
        cur.execute("INSERT INTO wecom_corp (corp_id, name, agent_id, contact_secret, app_secret, callback_token, "
                    "encoding_aes_key, enabled, sync_status, created_at, updated_at) VALUES "
                    "('wwbench', '压测企业', '1', '', '', '', '', 1, '{}', ?, ?)", (NOW, NOW))
        cur.execute("INSERT INTO tag_category (object_type, name, position) VALUES ('customer', '压测', 0)")
        for name in ("KOC", "高意向", "复购", "新客"):
            cur.execute("INSERT INTO tag (category_id, name, kind, score, enabled, rule, last_run_count, created_at, "
                        "updated_at) VALUES (1, ?, 'manual', 0, 1, '{}', 0, ?, ?)", (name, NOW, NOW))
        _bulk(cur, "INSERT INTO customer (name, gender, city, source, status, tag_score, follow_count, attrs, "
                   "created_at, updated_at, order_count, total_spent_fen, owner_id, wechat_id) "
                   "VALUES (?, '', '上海', '企业微信', 'active', 0, 0, ?, ?, ?, ?, ?, ?, ?)",
              lambda i: (f"客户{i}", json.dumps({"level": ["普通", "银卡", "金卡"][i % 3]}), NOW, NOW, i % 7,
                         (i % 7) * 9900, owner_id, f"wxid_c{i}" if i % 3 == 1 else None), n)
        _bulk(cur, "INSERT INTO wecom_contact (corp_pk, external_userid, unionid, name, type, gender, corp_name, "
                   "follow_users, customer_id, linked_by, synced_at) VALUES (1, ?, ?, ?, 1, 1, '', ?, ?, 'created', ?)",
              lambda i: (f"wm{i * 3:09d}", f"oU{i * 3}", f"客户{i * 3}", '[{"userid": "u01"}]', i * 3 + 1, NOW),
              (n + 2) // 3)
        _bulk(cur, "INSERT INTO wechat_friend (account_id, wxid, nickname, remark, mobile, tags, source, added_at, "
                   "customer_id) VALUES (1, ?, '', '', '', '[]', '', ?, ?)",
              lambda i: (f"wxid_f{i * 3 + 2}", NOW, i * 3 + 3), n // 3)
        _bulk(cur, "INSERT INTO customer_tag (customer_id, tag_id, source, added_at) VALUES (?, ?, 'manual', ?)",
              lambda i: (i // 2 + 1, 1 + (i // 2 + i % 2) % 4, NOW), 2 * n)
        _bulk(cur, "INSERT INTO sales_order (order_no, customer_id, source, status, goods_fen, discount_fen, total_fen, "
                   "paid_fen, refunded_fen, remark, created_at, updated_at) "
                   "VALUES (?, ?, 'console', 'paid', 9900, 0, 9900, 9900, 0, '', ?, ?)",
              lambda i: (f"SO{i:010d}", i * 5 + 1, NOW, NOW), n // 5)
        _bulk(cur, "INSERT INTO follow_up (customer_id, user_id, followed_at, way, content, status, maturity) "
                   "VALUES (?, ?, ?, 'wechat', '回访：想要红茶礼盒', 'following', 50)",
              lambda i: (i * 5 + 1, owner_id, NOW), n // 5)
        cur.execute("COMMIT")
        cur.execute("ANALYZE")
        cur.close()
    finally:
        raw.close()
    return time.perf_counter() - started


def wx_id(i: int) -> str:
    """The id the sidebar would pass for customer row i (0-based)."""
    return (f"wm{i:09d}", f"wxid_c{i}", f"wxid_f{i}")[i % 3]


def _percentiles(times: list[float]) -> tuple[float, float]:
    times = sorted(times)
    return statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.99))]


def measure(session: requests.Session, pairs: list[tuple[str, str]]) -> tuple[tuple, tuple]:
    """Baseline and portrait requests interleaved, so machine noise falls on both alike."""
    times: tuple[list, list] = ([], [])
    for urls in pairs:
        for kind, url in enumerate(urls):
            t0 = time.perf_counter()
            answer = session.get(url, timeout=30)
            times[kind].append((time.perf_counter() - t0) * 1000)
            assert answer.status_code == 200, (url, answer.status_code, answer.text[:200])
    return _percentiles(times[0]), _percentiles(times[1])


def client_run(base: str, picks: list[int]):
    """In a separate process: sign in as the 业务员, warm up, then time baseline and portrait."""
    http = requests.Session()
    page = http.get(base + "/login").text
    token = page.split('name="csrf-token" content="')[1].split('"')[0]
    assert http.post(base + "/login", data={"username": "bench_sales", "password": "Passw0rd123",
                                            "csrf_token": token}, allow_redirects=False).status_code == 302
    sample = http.get(f"{base}/api/crm/customers/{wx_id(picks[0])}").json()
    pairs = [(f"{base}/bench/baseline/{i + 1}", f"{base}/api/crm/customers/{wx_id(i)}") for i in picks]
    measure(http, pairs[:50])  # warm both paths
    return (sample,) + measure(http, pairs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=1000)
    args = parser.parse_args()
    args.requests = max(50, min(args.requests, 20_000))
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one access-log line per request would skew the timing
    with tempfile.TemporaryDirectory() as tmp:
        var = Path(tmp)
        url = f"sqlite:///{var / 'bench.db'}"
        upgrade(url)
        from web import create_app

        settings = Settings(var_dir=var, database_url=url, secret_key="bench-secret", run_background=False,
                            secure_cookies=False)
        app = create_app(settings)
        db = app.extensions["ckb"].services.db
        people.ensure_builtin_roles(db)
        sales = people.create_user(db, "bench_sales", "Passw0rd123", display_name="压测业务员", roles=["sales"])
        seconds = load(db, args.customers, sales.id)
        print(f"loaded {args.customers:,} customers (+ contacts, friends, 2 tags each, orders, follow-ups) in {seconds:.1f} s")

        @app.get("/bench/baseline/<int:customer_id>")
        def baseline(customer_id: int):  # the floor: an authenticated primary-key read
            if g.get("user") is None:
                return jsonify({"error": "login"}), 401
            with db.read() as s:
                return jsonify({"name": s.get(Customer, customer_id).name})

        cpu: dict[str, list[float]] = {}

        @app.before_request
        def _cpu_start():
            g.bench_cpu = time.thread_time()

        @app.after_request
        def _cpu_stop(response):  # CPU of this request's thread: a figure the machine's load does not inflate
            cpu.setdefault(request.endpoint or "", []).append((time.thread_time() - g.bench_cpu) * 1000)
            return response

        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        base = f"http://127.0.0.1:{server.server_port}"
        try:
            rnd = random.Random(7)
            picks = [rnd.randrange(args.customers) for _ in range(args.requests)]
            # The client runs in its own process: sharing the server's GIL would time the client too.
            with multiprocessing.get_context("spawn").Pool(1) as pool:
                sample, (b50, b99), (p50, p99) = pool.apply(client_run, (base, picks))
            print(f"sample portrait: matched_by={sample['matched_by']} tags={[t['name'] for t in sample['tags']]} "
                  f"orders={len(sample['recent_orders'])} level={sample['level']}")
            print(f"{args.requests:,} sequential requests each, 127.0.0.1, one 业务员 session (object scope on):")
            print(f"  baseline (customer by primary key): p50 {b50:7.2f} ms  p99 {b99:7.2f} ms")
            print(f"  GET /api/crm/customers/<wxId>:      p50 {p50:7.2f} ms  p99 {p99:7.2f} ms  (goal p99 ≤ 200 ms)")
            print(f"  ratio portrait / baseline: p50 {p50 / b50:.2f}×  p99 {p99 / b99:.2f}×")
            cb, cp = (statistics.median(cpu[name]) for name in ("baseline", "wecom_sidebar.customer_portrait"))
            print(f"  server CPU per request (thread time, median): baseline {cb:.2f} ms, portrait {cp:.2f} ms "
                  f"({cp / cb:.2f}×); load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        finally:
            server.shutdown()
            db.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
