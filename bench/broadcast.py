"""1:1 消息群发 planning throughput: a broadcast by tag to N friends on 20 accounts is planned —
recipients resolved, weekly guard, ${name} rendered per friend, conversation upserted, the send issued
through conversations.outbound.send (issue_command + the risk budget) with its idempotency key, the
message stored and the recipient row written, 50 per write transaction — against a baseline measured
in the same run on a copy of the same database: issuing the same N send_text commands with
issue_command alone, 50 per transaction (the floor any send path pays). Prints recipients/s and the
ratio; checks every friend got exactly one command.

Run: .venv/bin/python bench/broadcast.py                 (2,000 friends; ~3 minutes on a busy 2-core box)
     .venv/bin/python bench/broadcast.py --friends 500   (smoke run)
SQLite in a fresh temporary directory, in process, nothing on the network.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ACCOUNTS = 20
CHUNK = 50


def seed(url: str, friends: int) -> int:
    from config.db import Database
    from crm.customers.models import Customer
    from crm.tags.models import CustomerTag, Tag, TagCategory
    from devices.models import Friend, WechatAccount

    db = Database(url)
    with db.write() as s:
        cat = TagCategory(name="压测")
        s.add(cat)
        s.flush()
        tag = Tag(category_id=cat.id, name="双十二")
        s.add(tag)
        accounts = [WechatAccount(wxid=f"wx_bench_{a}", nickname=f"客服{a}") for a in range(ACCOUNTS)]
        s.add_all(accounts)
        s.flush()
        customers = [Customer(name=f"客户{i}") for i in range(friends)]
        s.add_all(customers)
        s.flush()
        s.add_all([CustomerTag(customer_id=c.id, tag_id=tag.id) for c in customers])
        s.add_all([Friend(account_id=accounts[i % ACCOUNTS].id, wxid=f"wx_f{i}", nickname=f"好友{i}",
                          customer_id=c.id) for i, c in enumerate(customers)])
        tag_id = tag.id
    db.dispose()
    return tag_id


def services_for(url: str, var: Path):
    from config.clock import ManualClock, utcnow
    from config.db import Database
    from config.services import Services
    from config.settings import Settings

    settings = Settings(var_dir=var, database_url=url, secret_key="bench-broadcast", run_background=False)
    return Services(settings=settings, db=Database(url), clock=ManualClock(utcnow()))


def run_broadcast(url: str, var: Path, tag_id: int, friends: int) -> float:
    from sqlmodel import func, select

    from conversations.broadcast import runner, service
    from crm.scope import Viewer
    from devices.models import DeviceCommand

    svc = services_for(url, var)
    with svc.db.write() as s:
        bid = service.create(s, {"name": "压测", "target": {"mode": "tags", "tag_ids": [tag_id]},
                                 "content": {"msg_type": "text", "text": "${name}您好，双十二活动今晚开始"}},
                             Viewer(None, frozenset({"conversations.view_all"})), svc.now()).id
    started = time.perf_counter()
    runner.run(svc, bid)
    took = time.perf_counter() - started
    with svc.db.read() as s:
        keys = s.exec(select(func.count(func.distinct(DeviceCommand.idempotency_key)))).one()
        total = s.exec(select(func.count()).select_from(DeviceCommand)).one()
    svc.db.dispose()
    assert keys == total == friends, (keys, total, friends)
    return took


def run_baseline(url: str, var: Path, friends: int) -> float:
    from sqlmodel import select

    from devices.commands import issue_command
    from devices.models import Friend

    svc = services_for(url, var)
    with svc.db.read() as s:
        rows = [(f.id, f.account_id, f.wxid) for f in s.exec(select(Friend).order_by(Friend.id))]
    started = time.perf_counter()
    for start in range(0, len(rows), CHUNK):
        with svc.db.write() as s:
            for fid, account_id, wxid in rows[start:start + CHUNK]:
                issue_command(s, account_id, "send_text", {"to": wxid, "text": "您好，双十二活动今晚开始"},
                              source="system", idempotency_key=f"base:{fid}", customer_key=wxid, now=svc.now())
    took = time.perf_counter() - started
    svc.db.dispose()
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--friends", type=int, default=2_000)
    args = parser.parse_args()
    from web.migrate import upgrade

    tmp = Path(tempfile.mkdtemp(prefix="ckb-bench-broadcast-"))
    try:
        template = tmp / "template.db"
        upgrade(f"sqlite:///{template}")
        tag_id = seed(f"sqlite:///{template}", args.friends)
        figures = {}
        for name in ("baseline", "broadcast"):
            db_file = tmp / f"{name}.db"
            shutil.copy(template, db_file)
            var = tmp / name
            var.mkdir()
            url = f"sqlite:///{db_file}"
            took = (run_baseline(url, var, args.friends) if name == "baseline"
                    else run_broadcast(url, var, tag_id, args.friends))
            figures[name] = args.friends / took
            print(f"{name:10s} {args.friends} sends planned in {took:6.2f} s = {figures[name]:8.0f} /s")
        print(f"ratio broadcast / bare issue_command: {figures['broadcast'] / figures['baseline']:.2f}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
