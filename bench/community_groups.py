"""社群列表 and 群活 at scale (issue 13 benchmark, part "groups").

Builds a fresh migrated SQLite database in a temp directory and bulk-generates (raw INSERTs) at
--scale 1: 50 accounts, 5,000 groups, 500,000 members (10 % left, 20 % seen by a full sync), and
5,000,000 group messages over 30 Beijing days from ~30 % of the members. Then it reports:

- rollup: the 群活 rollup over every message from the watermark (community.activity.rollup.roll_up,
  the every-minute job's code path), in µs per message; the baseline, measured in the same run, is
  the rollup's own batch query alone (reading the same rows in the same batches, counting nothing):
  the ratio says what the counting adds over merely reading each new message once.
- incremental: 20,000 more messages stored one transaction each through the message store
  (conversations.store.record_message, as the gateway does), then one rollup of just those.
- group list: GET /api/social/groups' service (community.groups.listing.list_groups) for random
  pages, sorts and filters (activity range, account, tag) — p50/p99 in ms (goal p99 ≤ 300 ms) —
  against a baseline of a plain paged group list (the groups joined to their accounts, count + page)
  in the same run.

    .venv/bin/python bench/community_groups.py              # --scale 0.2 (1M messages): ~2-3 min on 2 cores
    .venv/bin/python bench/community_groups.py --scale 1    # the issue's sizes (5M messages)

Local files only; the temp directory is removed unless --keep.
"""
from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select  # noqa: E402

from community.activity import rollup  # noqa: E402
from community.activity.days import day_of  # noqa: E402
from community.groups.listing import SORTS, GroupFilter, list_groups  # noqa: E402
from config.clock import install_zone  # noqa: E402
from config.db import Database  # noqa: E402
from config.settings import load_settings  # noqa: E402
from conversations.models import ChatMessage, Conversation  # noqa: E402
from conversations.store import NewMessage, record_message  # noqa: E402
from crm.scope import SYSTEM  # noqa: E402
from devices.models import ChatGroup, WechatAccount  # noqa: E402
from web.migrate import upgrade  # noqa: E402

UTC = timezone.utc
DAYS = 30
CHUNK = 50_000
NOW = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)


def _ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def _insert(db: Database, sql: str, rows) -> int:
    raw = db.engine.raw_connection()
    n = 0
    try:
        cur = raw.cursor()
        cur.execute("BEGIN")
        batch = []
        for row in rows:
            batch.append(row)
            if len(batch) >= CHUNK:
                cur.executemany(sql, batch)
                n += len(batch)
                batch = []
        if batch:
            cur.executemany(sql, batch)
            n += len(batch)
        cur.execute("COMMIT")
        cur.close()
    finally:
        raw.close()
    return n


def generate(db: Database, scale: float, seed: int = 13) -> dict:
    rnd = random.Random(seed)
    sizes = {"accounts": 50, "groups": max(10, int(5000 * scale)), "members": max(100, int(500_000 * scale)),
             "messages": max(1000, int(5_000_000 * scale))}
    first = NOW - timedelta(days=DAYS)
    now_s = _ts(NOW)
    _insert(db, "INSERT INTO wechat_account (id, wxid, alias, nickname, mobile, avatar, status, health_score, pause_reason,"
                " owner_user_id, friends_count, groups_count, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            ((a, f"wx_acc{a}", "", f"运营{a}号", "", "", "normal", 100, "", None, 0, 0, now_s)
             for a in range(1, sizes["accounts"] + 1)))
    per_group = sizes["members"] // sizes["groups"]
    _insert(db, "INSERT INTO chat_group (id, account_id, chatroom_id, name, owner_wxid, member_count, announcement, created_at)"
                " VALUES (?,?,?,?,?,?,?,?)",
            ((g, 1 + g % sizes["accounts"], f"room{g}@chatroom", f"社群{g}", f"wx_acc{1 + g % sizes['accounts']}",
              int(per_group * 0.9), "", _ts(first - timedelta(days=10))) for g in range(1, sizes["groups"] + 1)))

    def members():
        for g in range(1, sizes["groups"] + 1):
            for m in range(per_group):
                joined = first + timedelta(seconds=rnd.randrange(DAYS * 86400))
                left = _ts(joined + timedelta(days=rnd.randrange(1, 10))) if m % 10 == 0 else None
                yield (g, f"wx_g{g}m{m}", f"成员{m}", _ts(joined), left, m % 5 == 0)
    _insert(db, "INSERT INTO chat_group_member (group_id, wxid, nickname, joined_at, left_at, joined_via_sync)"
                " VALUES (?,?,?,?,?,?)", members())
    _insert(db, "INSERT INTO conversation (id, channel, account_id, kind, peer_id, title, group_id, last_message_text,"
                " last_direction, unread_count, needs_human, needs_human_reason, created_at, updated_at)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            ((g, "wechat", 1 + g % sizes["accounts"], "group", f"room{g}@chatroom", f"社群{g}", g, "", "in", 0, False, "",
              now_s, now_s) for g in range(1, sizes["groups"] + 1)))
    speakers = max(1, int(per_group * 0.3))
    span = DAYS * 86400

    def messages():
        for i in range(sizes["messages"]):
            g = 1 + rnd.randrange(sizes["groups"])
            m = rnd.randrange(speakers)
            at = _ts(first + timedelta(seconds=span * i / sizes["messages"]))
            yield (g, "wechat", 1 + g % sizes["accounts"], f"b{i}", "in", f"wx_g{g}m{m}", f"成员{m}", "text", "你好",
                   "{}", at, at, "received", "")
    _insert(db, "INSERT INTO chat_message (conversation_id, channel, account_id, external_id, direction, sender_id,"
                " sender_name, msg_type, text, payload, sent_at, created_at, status, reason)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", messages())
    with db.write() as s:
        tags = ["VIP", "宝妈", "新客", "老客"]
        s.execute(select(func.count()).select_from(ChatGroup))
    _insert(db, "INSERT INTO community_group_tag (group_id, name) VALUES (?,?)",
            ((g, tags[g % 4]) for g in range(1, sizes["groups"] + 1) if g % 3 == 0))
    return sizes


def bench_rollup(db: Database, tz: str) -> dict:
    with db.read() as s:
        total = s.execute(select(func.count()).select_from(ChatMessage)).scalar()
    t = time.perf_counter()
    last = 0
    with db.read() as s:  # baseline: the rollup's batch query alone, same batches
        while True:
            rows = rollup._batch(s, last, NOW, rollup.BATCH)
            if not rows:
                break
            last = rows[-1].id
    scan = time.perf_counter() - t
    t = time.perf_counter()
    counted = 0
    while True:
        with db.write() as s:
            out = rollup.roll_up(s, NOW, tz, max_batches=20)
        counted += out["messages"]
        if out["messages"] == 0:
            break
    full = time.perf_counter() - t
    return {"messages": total, "counted": counted, "rollup_s": round(full, 1),
            "rollup_us_per_message": round(full / total * 1e6, 2), "scan_us_per_message": round(scan / total * 1e6, 2),
            "ratio_vs_scan": round(full / scan, 2)}


def bench_incremental(db: Database, tz: str, n: int) -> dict:
    with db.read() as s:
        groups = s.execute(select(ChatGroup.id, ChatGroup.account_id, ChatGroup.chatroom_id)).all()
    rnd = random.Random(5)
    at = NOW - timedelta(minutes=5)
    t = time.perf_counter()
    for i in range(n):
        gid, acc, room = groups[rnd.randrange(len(groups))]
        with db.write() as s:
            record_message(s, NewMessage(channel="wechat", account_id=acc, kind="group", peer_id=room, direction="in",
                                         text="新消息", sent_at=at, external_id=f"inc{i}", sender_id=f"wx_g{gid}m1",
                                         sender_name="成员1", group_id=gid), at)
    store = time.perf_counter() - t
    t = time.perf_counter()
    with db.write() as s:
        out = rollup.roll_up(s, NOW, tz, max_batches=100)
    roll = time.perf_counter() - t
    return {"messages": n, "counted": out["messages"], "store_us_per_message": round(store / n * 1e6, 1),
            "rollup_us_per_message": round(roll / n * 1e6, 2), "rollup_share_of_store": round(roll / store, 3)}


def _p(values: list[float], q: float) -> float:
    values = sorted(values)
    return round(values[min(len(values) - 1, int(q * len(values)))] * 1000, 1)


def bench_list(db: Database, tz: str, requests: int) -> dict:
    rnd = random.Random(9)
    today = day_of(NOW, tz)
    with db.read() as s:
        pages = max(1, s.execute(select(func.count()).select_from(ChatGroup)).scalar() // 20)
    timings, base = [], []
    for i in range(requests):
        flt = GroupFilter(sort=rnd.choice(list(SORTS)))
        kind = i % 4
        if kind == 1:
            flt.min_messages, flt.max_messages = rnd.choice([(0, 100), (100, 2000), (500, None)])
        elif kind == 2:
            flt.account_id = 1 + rnd.randrange(50)
        elif kind == 3:
            flt.tag = rnd.choice(["VIP", "宝妈", "新客"])
        page = 1 + rnd.randrange(min(pages, 50))
        t = time.perf_counter()
        with db.read() as s:
            list_groups(s, SYSTEM, flt, today, page, 20)
        timings.append(time.perf_counter() - t)
        t = time.perf_counter()
        with db.read() as s:  # baseline: a plain paged list of groups with their accounts
            q = select(ChatGroup, WechatAccount).join(WechatAccount, WechatAccount.id == ChatGroup.account_id)
            s.execute(select(func.count()).select_from(q.subquery())).scalar()
            s.execute(q.order_by(ChatGroup.id).offset((page - 1) * 20).limit(20)).all()
        base.append(time.perf_counter() - t)
    return {"requests": requests, "p50_ms": _p(timings, 0.5), "p99_ms": _p(timings, 0.99),
            "baseline_p50_ms": _p(base, 0.5), "baseline_p99_ms": _p(base, 0.99),
            "ratio_p99": round(_p(timings, 0.99) / max(_p(base, 0.99), 0.01), 1), "goal_p99_ms": 300}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=float, default=0.2)
    ap.add_argument("--incremental", type=int, default=20_000)
    ap.add_argument("--requests", type=int, default=300)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    tz = load_settings().timezone
    install_zone(tz)
    workdir = Path(tempfile.mkdtemp(prefix="ckb-bench-community-"))
    url = f"sqlite:///{workdir / 'cunkebao.db'}"
    try:
        upgrade(url)
        db = Database(url)
        t = time.perf_counter()
        sizes = generate(db, args.scale)
        out = {"sizes": sizes, "generate_s": round(time.perf_counter() - t, 1)}
        out["rollup"] = bench_rollup(db, tz)
        out["incremental"] = bench_incremental(db, tz, args.incremental)
        out["group_list"] = bench_list(db, tz, args.requests)
        with db.read() as s:
            out["check"] = {"activity_rows": s.execute(select(func.count()).select_from(
                rollup.GroupActivityDay)).scalar(), "conversations": s.execute(select(func.count()).select_from(
                    Conversation)).scalar()}
        print(json.dumps(out, ensure_ascii=False, indent=2))
        db.dispose()
    finally:
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
