"""Issue 12 benchmark (触客宝): phone → browser latency at 200 messages/s through the real device
gateway and the live channel (goal p99 ≤ 1 s), and the conversation list p99 (goal ≤ 300 ms) with
1,000 simulated accounts and 3M stored messages.

Run: python bench/chat.py [--accounts 1000] [--messages 3000000] [--rate 200] [--seconds 15]
(a few minutes with the defaults, most of it the bulk insert; everything on 127.0.0.1 in a fresh
temporary var dir, SQLite, the one-process default: `cunkebao serve --workers 1`).

How:
- the server is `cunkebao serve --workers 1 --threads <phones + 100>` (each phone's WebSocket and
  each browser stream holds a thread); the phones (100 × 10 accounts) run in this process on one
  asyncio loop (devices.simulator.SimulatedFleet) and report their accounts and friends;
- the volume is bulk-inserted (generated conversations and messages spread over the accounts,
  the last 30 days), so the list and the thread run against a store of the asked size;
- a "browser" here is an SSE client on /chat/stream signed in as an administrator (sees every
  conversation, so it is sent every event — the hardest filter case);
- each timed message is a friend's `message` report with a unique text; latency = the event with
  that text read from the stream − the moment the phone sent the report. Baseline, same messages:
  the report's ack (the server stored it and answered the phone) — the ratio is what the live
  channel adds on top of storing;
- list: GET /api/v1/conversations (50 per page; all conversations, 未回复, one account) with a bearer
  token, against the baseline GET /api/v1/processors (same auth, no database work) in the same run.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import statistics
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ingest import Proc, wait_port  # noqa: E402

PYTHON = sys.executable
CLI = [PYTHON, "-m", "web.cli"]  # this checkout's code (cwd first on sys.path)
GOALS = {"latency_p99_ms": 1000.0, "list_p99_ms": 300.0}
PER_PHONE = 10


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def bulk_fill(db, account_ids: list[int], per_account: int, messages: int, now) -> tuple[int, int]:
    """Generated conversations and messages (the stored volume); returns (conversations, messages)."""
    from sqlalchemy import insert

    from conversations.models import ChatMessage, Conversation

    rng = random.Random(12)
    convs = []
    for a in account_ids:
        for k in range(per_account):
            convs.append({"channel": "wechat", "account_id": a, "kind": "group" if k % 10 == 9 else "private",
                          "peer_id": f"wxid_bulk_{a}_{k}", "title": f"客户{a}-{k}", "unread_count": rng.randint(0, 3),
                          "needs_human": False, "needs_human_reason": "", "last_message_text": "", "last_direction": "",
                          "created_at": now, "updated_at": now})
    with db.write() as s:
        for start in range(0, len(convs), 20000):
            s.execute(insert(Conversation.__table__), convs[start:start + 20000])
    from sqlmodel import select
    with db.read() as s:
        ids = [(c.id, c.account_id) for c in s.exec(select(Conversation).where(Conversation.peer_id.like("wxid_bulk_%")))]
    last: dict[int, tuple] = {}
    per_conv = max(1, messages // max(1, len(ids)))
    span = 30 * 86400
    written = 0
    chunk = []

    columns = ["conversation_id", "channel", "account_id", "external_id", "direction", "sender_id", "sender_name",
               "msg_type", "text", "payload", "sent_at", "created_at", "status", "reason"]
    raw_sql = (f"INSERT INTO chat_message ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})")

    def flush():
        nonlocal chunk
        with db.write() as s:
            if s.get_bind().dialect.name == "sqlite":  # the DB-API's executemany: ~10× SQLAlchemy's
                stamp = "%Y-%m-%d %H:%M:%S.%f"
                s.connection().exec_driver_sql(raw_sql, [tuple(
                    json.dumps(r[c]) if c == "payload" else r[c].replace(tzinfo=None).strftime(stamp)
                    if c in ("sent_at", "created_at") else r[c] for c in columns) for r in chunk])
            else:
                s.execute(insert(ChatMessage.__table__), chunk)
        chunk = []

    # Bulk load: the secondary indexes are dropped while the rows go in and rebuilt once after
    # (the unique external-id index stays: it is part of the table).
    indexes = [ix for ix in ChatMessage.__table__.indexes]
    with db.write() as s:
        for ix in indexes:
            ix.drop(s.connection())
    texts = ["在吗", "价格多少", "课程怎么报名", "好的谢谢", "发我看看", "已下单", "什么时候发货"]
    for cid, account_id in ids:
        for j in range(per_conv):
            at = now - timedelta(seconds=span - j * span // per_conv - rng.randint(0, 60))
            direction = "in" if rng.random() < 0.6 else "out"
            text = rng.choice(texts)
            chunk.append({"conversation_id": cid, "channel": "wechat", "account_id": account_id,
                          "external_id": f"bulk-{cid}-{j}", "direction": direction, "sender_id": "", "sender_name": "",
                          "msg_type": "text", "text": text, "payload": {}, "sent_at": at, "created_at": at,
                          "status": "received" if direction == "in" else "sent", "reason": ""})
            last[cid] = (at, text, direction)
            written += 1
            if len(chunk) >= 50000:
                flush()
    if chunk:
        flush()
    with db.write() as s:
        for ix in indexes:
            ix.create(s.connection())
    from sqlalchemy import update
    with db.write() as s:
        rows = [{"cid": cid, "at": at, "text": text, "dir": d} for cid, (at, text, d) in last.items()]
        from sqlalchemy import bindparam
        t = Conversation.__table__
        s.execute(update(t).where(t.c.id == bindparam("cid")).values(
            last_message_at=bindparam("at"), last_message_text=bindparam("text"), last_direction=bindparam("dir"),
            last_inbound_at=bindparam("at")), rows)
    return len(ids), written


class SSEClient(threading.Thread):
    """A browser's live channel: records when each bench message's event arrives."""

    def __init__(self, session, url: str):
        super().__init__(name="bench-sse", daemon=True)
        self.session, self.url = session, url
        self.arrived: dict[str, float] = {}
        self.ready = threading.Event()
        self.stop = False
        self.error = ""

    def run(self) -> None:
        try:
            with self.session.get(self.url, stream=True, headers={"Accept": "text/event-stream"}, timeout=(5, 60)) as r:
                if r.status_code != 200:
                    self.error = f"stream answered {r.status_code}"
                    self.ready.set()
                    return
                for line in r.iter_lines(decode_unicode=True):
                    if self.stop:
                        return
                    if line and line.startswith("event: hello"):
                        self.ready.set()
                    if line and line.startswith("data: {") and "bench-" in line:
                        now = time.monotonic()
                        event = json.loads(line[6:])
                        text = (event.get("message") or {}).get("text", "")
                        if text.startswith("bench-"):
                            self.arrived.setdefault(text, now)
        except Exception as exc:  # noqa: BLE001 - reported in the figures
            self.error = f"{type(exc).__name__}: {exc}"
            self.ready.set()


def login(session, base: str, username: str, password: str) -> None:
    html = session.get(base + "/login").text
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', html).group(1)
    r = session.post(base + "/login", data={"username": username, "password": password, "csrf_token": token},
                     allow_redirects=False)
    if r.status_code != 302:
        raise RuntimeError(f"login failed: {r.status_code}")


def timed_gets(session, url: str, count: int, headers: dict) -> list[float]:
    out = []
    for _ in range(count):
        t = time.perf_counter()
        r = session.get(url, headers=headers)
        out.append((time.perf_counter() - t) * 1000)
        if r.status_code != 200:
            raise RuntimeError(f"{url}: {r.status_code} {r.text[:200]}")
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--accounts", type=int, default=1000)
    ap.add_argument("--messages", type=int, default=3_000_000)
    ap.add_argument("--per-account", type=int, default=30, help="stored conversations per account")
    ap.add_argument("--rate", type=float, default=200.0, help="timed messages per second")
    ap.add_argument("--seconds", type=float, default=15.0, help="how long the timed load runs")
    ap.add_argument("--list-requests", type=int, default=200)
    ap.add_argument("--port", type=int, default=5088)
    ap.add_argument("--database-url", default="", help="PostgreSQL instead of the SQLite default (an empty database)")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()

    import requests

    tmp = Path(tempfile.mkdtemp(prefix="ckb-bench-chat-"))
    env = {**os.environ, "CKB_VAR_DIR": str(tmp / "var"), "CKB_SECRET_KEY": "bench-chat", "CKB_SECURE_COOKIES": "false",
           "CKB_CHAT_STREAM_LIMIT": "8", "CKB_LOG_LEVEL": "WARNING"}
    if args.database_url:
        env["CKB_DATABASE_URL"] = args.database_url
    os.environ.update({k: env[k] for k in ("CKB_VAR_DIR", "CKB_SECRET_KEY", "CKB_DATABASE_URL") if k in env})
    started = time.monotonic()
    server = fleet = sse = None
    base = f"http://127.0.0.1:{args.port}"
    try:
        import subprocess
        (tmp / "var").mkdir(parents=True, exist_ok=True)
        subprocess.run(CLI + ["init"], env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        from config.services import Services
        from config.settings import load_settings
        from crm.people import service as people
        from devices.registry import add_device
        from devices.simulator import PhoneConfig, SimulatedFleet

        services = Services.from_settings(load_settings())
        phones = max(1, args.accounts // PER_PHONE)
        with services.db.write() as s:
            tokens = [add_device(s, f"压测手机{i:04d}", f"127.0.0.1:{args.port}")[1] for i in range(phones)]
        people.ensure_builtin_roles(services.db)
        people.create_user(services.db, "bench", "Bench12345", display_name="压测管理员", is_admin=True)
        api_token = people.create_token(services.db, "bench", "bench")

        threads = phones + 100
        server = Proc("server", CLI + ["serve", "--port", str(args.port), "--workers", "1", "--threads", str(threads)], env, tmp)
        wait_port(args.port, 60)
        t0 = time.monotonic()
        fleet = SimulatedFleet(f"ws://127.0.0.1:{args.port}/devices/ws", tokens,
                               PhoneConfig(accounts=(PER_PHONE, PER_PHONE), friends=5, groups=0, min_send_gap=0))
        fleet.start(timeout=300)
        connect_s = time.monotonic() - t0

        from sqlmodel import select

        from devices.models import WechatAccount
        with services.db.read() as s:
            account_ids = [a.id for a in s.exec(select(WechatAccount))]
        t0 = time.monotonic()
        conversations, stored = bulk_fill(services.db, account_ids, args.per_account, args.messages, services.now())
        fill_s = time.monotonic() - t0

        api = requests.Session()
        bearer = {"Authorization": f"Bearer {api_token}"}
        timed_gets(api, base + "/api/v1/processors", 20, bearer)  # warm up
        baseline = timed_gets(api, base + "/api/v1/processors", args.list_requests, bearer)
        rng = random.Random(3)
        list_all = timed_gets(api, base + "/api/v1/conversations?size=50", args.list_requests, bearer)
        list_unreplied = timed_gets(api, base + "/api/v1/conversations?size=50&show=unreplied", args.list_requests // 2, bearer)
        list_account = []
        for _ in range(args.list_requests // 2):
            list_account += timed_gets(api, base + f"/api/v1/conversations?size=50&account_id={rng.choice(account_ids)}", 1, bearer)

        browser = requests.Session()
        login(browser, base, "bench", "Bench12345")
        sse = SSEClient(browser, base + "/chat/stream")
        sse.start()
        sse.ready.wait(15)
        if sse.error:
            raise RuntimeError(sse.error)

        sent: dict[str, float] = {}
        acked: dict[str, float] = {}
        total = int(args.rate * args.seconds)
        pairs = [(p, acc, w) for p in fleet.phones for acc in p.accounts for w in acc.friends]
        rng.shuffle(pairs)
        t_load = time.monotonic()
        for i in range(total):
            due = t_load + i / args.rate
            pause = due - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            phone, acc, friend = pairs[i % len(pairs)]
            text = f"bench-{i}"
            sent[text] = time.monotonic()
            future = asyncio.run_coroutine_threadsafe(phone.say(acc, friend, text), fleet.loop)
            future.add_done_callback(lambda f, text=text: acked.setdefault(text, time.monotonic()))
        load_s = time.monotonic() - t_load
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(sse.arrived) < total:
            time.sleep(0.2)
        sse.stop = True
        latency = [(sse.arrived[t] - sent[t]) * 1000 for t in sent if t in sse.arrived]
        ack = [(acked[t] - sent[t]) * 1000 for t in sent if t in acked]

        figures = {
            "accounts": len(account_ids), "phones": phones, "connect_s": round(connect_s, 1),
            "stored_conversations": conversations, "stored_messages": stored, "bulk_fill_s": round(fill_s, 1),
            "server": f"1 process (gunicorn gthread), {threads} threads, "
                      f"{'PostgreSQL' if args.database_url else 'SQLite'}",
            "timed_messages": total, "offered_rate_per_s": round(total / load_s, 1),
            "delivered_to_browser": len(latency), "acked": len(ack),
            "latency_p50_ms": round(pct(latency, 50), 1), "latency_p99_ms": round(pct(latency, 99), 1),
            "latency_max_ms": round(max(latency or [0]), 1),
            "baseline_ack_p50_ms": round(pct(ack, 50), 1), "baseline_ack_p99_ms": round(pct(ack, 99), 1),
            "latency_ratio_p99": round(pct(latency, 99) / max(0.001, pct(ack, 99)), 2),
            "list_all_p50_ms": round(pct(list_all, 50), 1), "list_all_p99_ms": round(pct(list_all, 99), 1),
            "list_unreplied_p99_ms": round(pct(list_unreplied, 99), 1),
            "list_account_p99_ms": round(pct(list_account, 99), 1),
            "baseline_api_p50_ms": round(pct(baseline, 50), 1), "baseline_api_p99_ms": round(pct(baseline, 99), 1),
            "list_ratio_p99": round(pct(list_all, 99) / max(0.001, pct(baseline, 99)), 2),
            "list_mean_ms": round(statistics.mean(list_all), 1),
            "latency_goal_met": bool(latency) and len(latency) == total and pct(latency, 99) <= GOALS["latency_p99_ms"],
            "list_goal_met": max(pct(list_all, 99), pct(list_unreplied, 99), pct(list_account, 99)) <= GOALS["list_p99_ms"],
            "total_s": round(time.monotonic() - started, 1),
        }
        print(json.dumps(figures, ensure_ascii=False, indent=2))
        out = ROOT / "bench" / "out"
        out.mkdir(exist_ok=True)
        (out / f"chat-{time.strftime('%Y%m%d-%H%M%S')}.json").write_text(json.dumps(figures, ensure_ascii=False, indent=2))
        return 0 if figures["latency_goal_met"] and figures["list_goal_met"] else 1
    finally:
        if sse is not None:
            sse.stop = True
        if fleet is not None:
            fleet.stop()
        if server is not None:
            server.stop()
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"kept {tmp}")


if __name__ == "__main__":
    sys.exit(main())
