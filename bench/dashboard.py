"""数据中心 at scale — the daily rollups (issue 10 §2 and its benchmark).

Builds a fresh migrated SQLite database under a temp directory and generates 180 days of activity
with raw INSERTs (default sizes, all scaled by --scale): 1,000 WeChat accounts owned by 20 staff in
4 departments, 200k friends, 300k received messages (device.message ledger rows, 30 % in groups),
100k delivered sends + 20k posted moments (device_command), 100k customers, 50k orders (85 % paid,
10 % of those partly refunded), 30k follow-ups and 50k group joins (30 % left). Then it reports:

- build: every metric over all 180 days from scratch (the nightly job's code path, per metric)
- live job: one run of the every-minute job (today, recomputed from raw rows), and its cost per
  event of the day in µs
- ingest slowdown: device.message events stored one per transaction through the ledger's trusted
  door (events.ingestion.store_trusted, as the device gateway does) for --window seconds without
  any rollup job (three windows, interleaved), and for --window seconds each with the live job
  running every --every seconds (the cron cadence is 60 s) in a thread of the ingesting process
  (`cunkebao serve` one-process mode) and in a process of its own (the scheduler leader) — the ratio
  of the rates (goal ≤ 1.1×). Every ingested event is dated today, so the job's day grows by
  the window's whole ingest (~60k rows) on top of a generated day: a pessimistic day.

    .venv/bin/python bench/dashboard.py                      # ~6 min on 2 cores
    .venv/bin/python bench/dashboard.py --scale 0.1 --window 20

Only SQLite on 127.0.0.1-free local files; the temp directory is removed unless --keep.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import shutil
import sys
import tempfile
import threading
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text  # noqa: E402

from analytics import rollups  # noqa: E402
from config.clock import from_local, install_zone  # noqa: E402
from config.db import Database  # noqa: E402
from config.settings import load_settings  # noqa: E402
from crm.people import service as people  # noqa: E402
from events.builtin import DEVICE_EVENT_KEYS  # noqa: E402
from events.definitions import import_builtin  # noqa: E402
from events.ingestion import store_trusted  # noqa: E402
from web.migrate import upgrade  # noqa: E402

UTC = timezone.utc
DAYS = 180
CHUNK = 20_000


def _when(rnd: random.Random, first: datetime) -> str:
    return (first + timedelta(seconds=rnd.randrange(DAYS * 86400))).strftime("%Y-%m-%d %H:%M:%S.000000")


def _insert(db: Database, sql: str, rows_fn, n: int) -> None:
    raw = db.engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("BEGIN")
        for start in range(0, n, CHUNK):
            cur.executemany(sql, [rows_fn(i) for i in range(start, min(n, start + CHUNK))])
        cur.execute("COMMIT")
        cur.close()
    finally:
        raw.close()


def generate(db: Database, scale: float, first: datetime, seed: int = 7) -> dict:
    rnd = random.Random(seed)
    sizes = {k: max(1, int(v * scale)) for k, v in {
        "accounts": 1000, "friends": 200_000, "messages": 300_000, "sends": 100_000, "moments": 20_000,
        "customers": 100_000, "orders": 50_000, "followups": 30_000, "members": 50_000}.items()}
    people.ensure_builtin_roles(db)
    users = [people.create_user(db, f"staff{i}", "Passw0rd!bench", roles=["sales"]).id for i in range(20)]
    with db.write() as s:
        for d in range(4):
            s.execute(text("INSERT INTO department (name, position) VALUES (:n, :p)"), {"n": f"部门{d}", "p": d})
        for i, uid in enumerate(users):
            s.execute(text("INSERT INTO user_department (user_id, department_id) VALUES (:u, :d)"),
                      {"u": uid, "d": i % 4 + 1})
        import_builtin(s, keys=DEVICE_EVENT_KEYS)
    n_acc = sizes["accounts"]
    _insert(db, "INSERT INTO wechat_account (wxid, alias, nickname, mobile, avatar, status, health_score, pause_reason,"
                " owner_user_id, friends_count, groups_count, created_at) VALUES (?, '', '', '', '', 'normal', 100, '',"
                " ?, 0, 0, '2026-01-01 00:00:00.000000')",
            lambda i: (f"acc{i}", users[i % len(users)]), n_acc)
    people_pool = max(1000, sizes["friends"] // 2)
    _insert(db, "INSERT INTO wechat_friend (account_id, wxid, nickname, remark, mobile, tags, source, added_at)"
                " VALUES (?, ?, '', '', '', '[]', '', ?)",
            lambda i: (i % n_acc + 1, f"p{i}", _when(rnd, first)), sizes["friends"])
    _insert(db, "INSERT INTO event_record (source, event_code, occurred_at, received_at, data, status, reject_reason,"
                " errors, dispatch_status, matched_count, outcome, outcome_note, client_ip)"
                " VALUES ('device', 'device.message', ?, ?, ?, 'accepted', '', '[]', 'done', 0, '', '', '')",
            lambda i: (lambda w: (w, w, json.dumps({"account_id": rnd.randrange(n_acc) + 1,
                                                    "from_wxid": f"p{rnd.randrange(people_pool)}",
                                                    "chatroom_id": "r@chatroom" if rnd.random() < 0.3 else ""})))(
                _when(rnd, first)), sizes["messages"])
    cmd = ("INSERT INTO device_command (account_id, kind, payload, status, reason, source, customer_key, result, error,"
           " created_at, finished_at) VALUES (?, ?, ?, 'succeeded', '', 'strategy', '', '{}', '', ?, ?)")
    _insert(db, cmd, lambda i: (lambda w: (rnd.randrange(n_acc) + 1, "send_text",
                                           json.dumps({"to": f"p{rnd.randrange(people_pool)}", "text": "hi"}), w, w))(
        _when(rnd, first)), sizes["sends"])
    _insert(db, cmd, lambda i: (lambda w: (rnd.randrange(n_acc) + 1, "post_moment", '{"text": "上新"}', w, w))(
        _when(rnd, first)), sizes["moments"])
    _insert(db, "INSERT INTO customer (name, gender, city, source, owner_id, status, tag_score, follow_count, order_count,"
                " total_spent_fen, attrs, created_at, updated_at) VALUES (?, '', '', '', ?, 'active', 0, 0, 0, 0, '{}', ?, ?)",
            lambda i: (lambda w: (f"客户{i}", users[i % len(users)], w, w))(_when(rnd, first)), sizes["customers"])
    refunds = []

    def order(i):
        paid = _when(rnd, first) if rnd.random() < 0.85 else None
        fen = rnd.randrange(1000, 500_000)
        if paid and rnd.random() < 0.1:
            refunds.append((i + 1, f"RF{i}", fen // 2, paid))
        return (f"SO{i}", rnd.randrange(sizes["customers"]) + 1, users[i % len(users)],
                "paid" if paid else "pending", fen, fen, fen if paid else 0, paid, paid or _when(rnd, first),
                paid or _when(rnd, first))
    _insert(db, "INSERT INTO sales_order (order_no, customer_id, credited_user_id, source, status, goods_fen, discount_fen,"
                " total_fen, paid_fen, refunded_fen, remark, paid_at, created_at, updated_at)"
                " VALUES (?, ?, ?, 'console', ?, ?, 0, ?, ?, 0, '', ?, ?, ?)", order, sizes["orders"])
    _insert(db, "INSERT INTO order_refund (order_id, refund_no, amount_fen, lines, restock, reason, created_at)"
                " VALUES (?, ?, ?, '[]', 1, '', ?)", lambda i: refunds[i], len(refunds))
    _insert(db, "INSERT INTO follow_up (customer_id, user_id, followed_at, way, content, status, maturity)"
                " VALUES (?, ?, ?, 'phone', '回访', 'following', 0)",
            lambda i: (rnd.randrange(sizes["customers"]) + 1, users[i % len(users)], _when(rnd, first)),
            sizes["followups"])
    groups = max(1, n_acc // 2)
    _insert(db, "INSERT INTO chat_group (account_id, chatroom_id, name, owner_wxid, member_count, announcement, created_at)"
                " VALUES (?, ?, '', '', 0, '', '2026-01-01 00:00:00.000000')",
            lambda i: (i * 2 % n_acc + 1, f"g{i}@chatroom"), groups)

    def member(i):
        joined = _when(rnd, first)
        left = (datetime.fromisoformat(joined) + timedelta(hours=rnd.randrange(1, 300))).strftime(
            "%Y-%m-%d %H:%M:%S.000000") if rnd.random() < 0.3 else None
        return (i % groups + 1, f"m{i}", joined, left)
    _insert(db, "INSERT INTO chat_group_member (group_id, wxid, nickname, joined_at, left_at) VALUES (?, ?, '', ?, ?)",
            member, sizes["members"])
    with db.write() as s:
        s.execute(text("ANALYZE"))
    sizes["refunds"] = len(refunds)
    return sizes


def ingest_for(db: Database, seconds: float, now: datetime, tz: str, accounts: int, start: int) -> int:
    """Stores device.message events one per transaction (as the gateway does per report) for `seconds`."""
    rnd, n, stop = random.Random(start), 0, time.perf_counter() + seconds
    while time.perf_counter() < stop:
        event = {"event": "device.message", "id": f"bench-{start + n}",
                 "data": {"account_id": rnd.randrange(accounts) + 1, "account_wxid": "acc", "from_wxid": f"p{rnd.randrange(5000)}",
                          "chatroom_id": "", "is_group": False, "text": "在吗", "msg_type": "text"}}
        with db.write() as s:
            store_trusted(s, "device", "device", [event], now, tz)
        n += 1
    return n


def with_job_thread(db, args, now, tz, accounts, start) -> tuple[int, list]:
    stop, runs = threading.Event(), []

    def job():
        while not stop.is_set():
            t = time.perf_counter()
            rollups.run_live(db, now, tz)
            runs.append(time.perf_counter() - t)
            stop.wait(args.every)
    thread = threading.Thread(target=job, daemon=True)
    thread.start()
    n = ingest_for(db, args.window, now, tz, accounts, start)
    stop.set()
    thread.join()
    return n, runs


def _job_process(url: str, now: datetime, tz: str, every: float, stop, out) -> None:
    install_zone(tz)
    db = Database(url)
    while not stop.is_set():
        t = time.perf_counter()
        rollups.run_live(db, now, tz)
        out.put(time.perf_counter() - t)
        stop.wait(every)
    db.dispose()


def with_job_process(db, url, args, now, tz, accounts, start) -> tuple[int, list]:
    ctx = multiprocessing.get_context("spawn")
    stop, out = ctx.Event(), ctx.Queue()
    proc = ctx.Process(target=_job_process, args=(url, now, tz, args.every, stop, out))
    proc.start()
    n = ingest_for(db, args.window, now, tz, accounts, start)
    stop.set()
    proc.join()
    runs = []
    while not out.empty():
        runs.append(out.get())
    return n, runs


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--window", type=float, default=60.0, help="seconds of ingest per measurement")
    ap.add_argument("--every", type=float, default=60.0, help="seconds between live rollup runs (cron: 60)")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    settings = load_settings()
    tz = settings.timezone
    install_zone(tz)
    workdir = Path(tempfile.mkdtemp(prefix="ckb-bench-dashboard-"))
    url = f"sqlite:///{workdir / 'cunkebao.db'}"
    try:
        upgrade(url)
        db = Database(url)
        today = date(2026, 12, 7)
        first = from_local(datetime.combine(today - timedelta(days=DAYS - 1), datetime.min.time()), tz)
        now = from_local(datetime.combine(today, datetime.min.time()), tz) + timedelta(hours=15)
        t0 = time.perf_counter()
        sizes = generate(db, args.scale, first)
        gen = time.perf_counter() - t0
        print(f"generated in {gen:.1f}s: " + ", ".join(f"{k} {v:,}" for k, v in sizes.items()))

        t0 = time.perf_counter()
        rollups.run_nightly(db, now, DAYS - 1, tz)
        build = time.perf_counter() - t0
        with db.read() as s:
            rows = s.execute(text("SELECT count(*) FROM metric_daily")).scalar()
        total_events = sum(v for k, v in sizes.items() if k != "accounts")
        print(f"build from scratch: {build:.1f}s for {DAYS} days, {rows:,} rollup rows "
              f"({1e6 * build / total_events:.1f} µs per raw row)")

        t0 = time.perf_counter()
        rollups.run_live(db, now, tz)
        live = time.perf_counter() - t0
        day_rows = total_events / DAYS
        print(f"live job (today): {live * 1000:.0f} ms ≈ {1e6 * live / day_rows:.1f} µs per event of the day "
              f"(~{day_rows:,.0f} raw rows/day)")

        base1 = ingest_for(db, args.window, now, tz, sizes["accounts"], 0)
        thread_n, thread_runs = with_job_thread(db, args, now, tz, sizes["accounts"], 10_000_000)
        base2 = ingest_for(db, args.window, now, tz, sizes["accounts"], 20_000_000)
        proc_n, proc_runs = with_job_process(db, url, args, now, tz, sizes["accounts"], 30_000_000)
        base3 = ingest_for(db, args.window, now, tz, sizes["accounts"], 40_000_000)
        base = (base1 + base2 + base3) / 3
        print("ingest without rollups: " + ", ".join(f"{b / args.window:.0f}" for b in (base1, base2, base3))
              + f" events/s (mean {base / args.window:.0f})")
        for label, n, runs in (("in a thread of the ingesting process (one-process mode)", thread_n, thread_runs),
                               ("in its own process (the scheduler leader)", proc_n, proc_runs)):
            ratio = base / n if n else float("inf")
            per_event = 1e6 * sum(runs) / n if n else float("nan")
            print(f"live job every {args.every:.0f}s {label}: {n / args.window:.0f} events/s, {len(runs)} run(s) of "
                  f"{', '.join(f'{r * 1000:.0f} ms' for r in runs)}; {per_event:.1f} µs of rollup work per ingested "
                  f"event; slowdown {ratio:.3f}× (goal ≤ 1.1×)")
        db.dispose()
    finally:
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
