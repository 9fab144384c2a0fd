"""首页 (工作台) at scale: p50/p99 of GET / for a 业务员 and for an admin, against a bare Flask page
measured in the same run, plus each panel's own p50, on SQLite.

Loads a fresh migrated database (executemany chunks): N customers over 20 业务员 and 180 days
(~1/180 created today), 2 of 20 tags each, N/10 tasks, N/10 leads, 1,000 WeChat accounts on 100
devices, 5,000 private messages and 2,000 send commands today, and the followups / new_friends
rollups; then signs in through /login with the Flask test client and times the home page.

    .venv/bin/python bench/home.py                      # 200,000 customers (~1 min)
    .venv/bin/python bench/home.py --customers 1000000  # the issue's size (~4 min)

Bounded: chunked load; 30 timed requests per page after 3 warm-ups; 127.0.0.1 never leaves the process.
"""
from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask import Flask, render_template_string  # noqa: E402
from sqlalchemy import text  # noqa: E402

from analytics import panels, rollup_store  # noqa: E402
from analytics.panels.base import PanelContext  # noqa: E402
from config.clock import SystemClock, to_local  # noqa: E402
from config.db import Database  # noqa: E402
from config.settings import Settings  # noqa: E402
from crm.people import service as people  # noqa: E402
from crm.people.permissions import ALL_PERMISSIONS, BUILTIN_ROLES  # noqa: E402
from crm.leads.models import Lead, LeadScene  # noqa: E402
from crm.scope import Viewer  # noqa: E402
from crm.tags.models import Tag, TagCategory  # noqa: E402
from devices.models import Device, DeviceCommand, WechatAccount  # noqa: E402
from events.models import EventRecord  # noqa: E402
from web.migrate import upgrade  # noqa: E402

CHUNK = 20_000
SALES = 20
UTC = timezone.utc
FMT = "%Y-%m-%d %H:%M:%S.%f"


def _ts(value: datetime) -> str:
    return value.astimezone(UTC).strftime(FMT)


def _insert(db: Database, sql: str, rows) -> None:
    raw = db.engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("BEGIN")
        batch = []
        for row in rows:
            batch.append(row)
            if len(batch) >= CHUNK:
                cur.executemany(sql, batch)
                batch = []
        if batch:
            cur.executemany(sql, batch)
        cur.execute("COMMIT")
        cur.close()
    finally:
        raw.close()


def load(db: Database, n: int, now: datetime, tz: str) -> tuple[list[int], float]:
    started = time.perf_counter()
    rnd = random.Random(7)
    people.ensure_builtin_roles(db)
    users = [people.create_user(db, f"sales{i}", "Sales12345", display_name=f"业务员{i}", roles=["sales"]).id
             for i in range(SALES)]
    people.create_user(db, "admin", "Admin12345", display_name="管理员", is_admin=True)
    with db.write() as s:
        cat = TagCategory(name="意向")
        s.add(cat)
        s.flush()
        s.add_all([Tag(category_id=cat.id, name=f"标签{i}") for i in range(20)]
                  + [LeadScene(name="官网", key="site", scene_type="WEB_FORM")])
        s.flush()
        s.add_all([Device(name=f"设备{i}", token_hash=f"h{i}", token_prefix="p", online=i % 10 != 0) for i in range(100)])
        s.flush()
        s.add_all([WechatAccount(device_id=i % 100 + 1, wxid=f"wx_acc{i}", nickname=f"号{i}",
                                 health_score=rnd.randint(20, 100), owner_user_id=users[i % SALES]) for i in range(1000)])
    _insert(db, "INSERT INTO customer (name, gender, city, source, owner_id, status, tag_score, follow_count, attrs, "
                "order_count, total_spent_fen, created_at, updated_at) VALUES (?, '', '', '', ?, 'active', 0, 0, '{}', "
                "0, 0, ?, ?)",
            ((f"客户{i}", rnd.choice(users), _ts(now - timedelta(days=rnd.randint(0, 179), seconds=rnd.randint(0, 36000))),
              _ts(now)) for i in range(n)))
    _insert(db, "INSERT OR IGNORE INTO customer_tag (customer_id, tag_id, source, added_at) VALUES (?, ?, 'manual', ?)",
            ((c, t, _ts(now)) for c in range(1, n + 1) for t in rnd.sample(range(1, 21), 2)))
    _insert(db, "INSERT INTO sales_task (title, kind, owner_id, creator_id, deadline, reminded, priority, progress, "
                "status, description, overdue_notified, position, created_at) VALUES (?, 'normal', ?, ?, ?, 0, 'normal', "
                "0, ?, '', 0, 0, ?)",
            ((f"任务{i}", u, u, _ts(now + timedelta(hours=rnd.randint(-720, 720))), rnd.choice(["todo", "doing", "done"]),
              _ts(now)) for i in range(n // 10) for u in [rnd.choice(users)]))
    for start in range(0, n // 10, CHUNK):  # leads carry many defaults: the ORM fills them
        with db.write() as s:
            s.add_all([Lead(scene_id=1, name=f"线索{i}", status="ASSIGNED", assignee_user_id=rnd.choice(users),
                            assigned_at=now - timedelta(days=rnd.randint(0, 179))) for i in range(start, min(n // 10, start + CHUNK))])
    local = to_local(now, tz)
    day_start = now - timedelta(hours=local.hour, minutes=local.minute)  # the local midnight
    with db.write() as s:
        s.add_all([EventRecord(source="device", event_code="device.message", dedupe_key=f"device:1:m{i}",
                               received_at=day_start + timedelta(seconds=rnd.randint(0, 3600 * 9)),
                               data={"account_id": rnd.randint(1, 1000), "from_wxid": f"wxf{rnd.randint(1, 3000)}",
                                     "is_group": False, "chatroom_id": "", "text": "在吗"}) for i in range(5000)])
        s.add_all([DeviceCommand(account_id=rnd.randint(1, 1000), kind="send_text", status="done",
                                 payload={"to": f"wxf{rnd.randint(1, 3000)}", "text": "好的"},
                                 created_at=day_start + timedelta(seconds=rnd.randint(0, 3600 * 9))) for _ in range(2000)])
    today = to_local(now, tz).date()
    with db.write() as s:
        for back in range(180):
            day = today - timedelta(days=back)
            rollup_store.put(s, day, "followups", {("user", u): rnd.randint(0, 40) for u in users})
            rollup_store.put(s, day, "new_friends", {**{("user", u): rnd.randint(0, 20) for u in users},
                                                     rollup_store.COMPANY: 200})
        s.execute(text("ANALYZE"))
    return users, time.perf_counter() - started


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] * 1000


def time_get(client, path: str, runs: int) -> list[float]:
    for _ in range(3):
        client.get(path)
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        resp = client.get(path)
        out.append(time.perf_counter() - t0)
        assert resp.status_code == 200, resp.status_code
    return out


def login(app, username: str, password: str):
    client = app.test_client()
    token = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    assert client.post("/login", data={"username": username, "password": password, "csrf_token": token}).status_code == 302
    return client


def panel_p50(db: Database, ctx: PanelContext, runs: int = 10) -> dict[str, float]:
    out = {}
    for p in panels.available(ctx.viewer.permissions):
        times = []
        for _ in range(runs):
            with db.read() as s:
                t0 = time.perf_counter()
                assert panels.run(s, p, ctx).error is None, p.key
                times.append(time.perf_counter() - t0)
        out[p.key] = statistics.median(times) * 1000
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    from web import create_app

    with tempfile.TemporaryDirectory() as tmp:
        var = Path(tmp)
        url = f"sqlite:///{var / 'bench.db'}"
        upgrade(url)
        settings = Settings(var_dir=var, database_url=url, secret_key="bench", run_background=False,
                            secure_cookies=False)
        clock = SystemClock()
        now = clock.now()
        db = Database(url)
        users, load_s = load(db, args.customers, now, settings.timezone)
        print(f"loaded {args.customers:,} customers (+tags, tasks, leads, fleet, messages, rollups) in {load_s:.1f} s")
        app = create_app(settings, clock=clock)
        sales_perms = next(r for r in BUILTIN_ROLES if r.code == "sales").permissions
        today = to_local(now, settings.timezone).date()
        engine_counts = {"received": 0, "accepted": 0, "rejected": 0, "matched": 0, "done": 0, "failed": 0, "dead": 0,
                         "pending_delayed": 0, "dead_total": 0}
        for label, uid, perms in (("业务员", users[0], sales_perms), ("管理员", users[0], ALL_PERMISSIONS)):
            ctx = PanelContext(Viewer(uid, frozenset(perms)), uid, today, now, settings.timezone,
                               {"engine_today": lambda s: engine_counts})
            figures = panel_p50(db, ctx)
            print(f"panel p50 ({label}): " + ", ".join(f"{k} {v:.1f} ms" for k, v in figures.items()))
        bare = Flask("bare")
        bare.add_url_rule("/", "bare", lambda: render_template_string("<h1>{{ n }}</h1>", n=1))
        base = time_get(bare.test_client(), "/", args.runs)
        sales = time_get(login(app, "sales0", "Sales12345"), "/", args.runs)
        admin = time_get(login(app, "admin", "Admin12345"), "/", args.runs)
        print(f"{'page':<16}{'p50 ms':>10}{'p99 ms':>10}{'p99 / bare p99':>18}")
        for name, times in (("bare Flask", base), ("首页 业务员", sales), ("首页 管理员", admin)):
            print(f"{name:<16}{pct(times, .5):>10.2f}{pct(times, .99):>10.2f}{pct(times, .99) / pct(base, .99):>18.1f}")
        app.extensions["ckb"].services.db.dispose()
        db.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
