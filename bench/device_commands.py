"""Device commands issued from the bench process (as a worker would, through the risk budget) and
their latencies read back from the database: what bench/topology.py measures across processes.

- pickup: created_at → sent_at (how long a command committed in this process waits before the
  gateway process holding the phone sends it: PostgreSQL NOTIFY, or the 0.5 s poll);
- ack: sent_at → acked_at (both stamped by the gateway; acked_at when the ack is stored);
- result: sent_at → finished_at (the simulated phone answers after 50–200 ms).
"""
from __future__ import annotations

import random
import time

from sqlmodel import select


def pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def issue_at_rate(services, count: int, rate: float, tag: str) -> list[int]:
    """Issues `count` send_text commands, one account after another at `rate` per second, each to a
    distinct friend of its account; returns the ids of those queued (not deferred by the budget)."""
    from devices.commands import issue_command
    from devices.models import Friend, WechatAccount

    with services.db.read() as s:
        accounts = [a.id for a in s.exec(select(WechatAccount).where(WechatAccount.device_id.is_not(None)))]
        friend_of: dict[int, str] = {}
        for account_id, wxid in s.exec(select(Friend.account_id, Friend.wxid)):
            friend_of.setdefault(account_id, wxid)
    accounts = [a for a in accounts if a in friend_of]
    if not accounts:
        raise RuntimeError("no connected account with a friend: the fleet did not report its accounts")
    order = [accounts[i % len(accounts)] for i in range(count)]
    random.Random(7).shuffle(order)
    queued = []
    start = time.monotonic()
    for i, account_id in enumerate(order):
        pause = start + i / rate - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        with services.db.write() as s:
            # One distinct recipient per command: the budget paces sends per account, so a second
            # send to the same account would wait its 5–10 s gap (by design).
            cmd = issue_command(s, account_id, "send_text", {"to": friend_of[account_id], "text": f"压测消息 {i}"},
                                source="manual", idempotency_key=f"bench:{tag}:{i}")
            if cmd.status == "queued":
                queued.append(cmd.id)
    return queued


def figures(services, ids: list[int], wait_seconds: float = 60) -> dict:
    """Waits until the commands are final (or `wait_seconds`), then their latencies in ms."""
    from devices.models import DeviceCommand

    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline:
        with services.db.read() as s:
            open_ = s.exec(select(DeviceCommand.id).where(DeviceCommand.id.in_(ids),
                                                          DeviceCommand.status.in_(("queued", "sent", "acked")))).all()
        if not open_:
            break
        time.sleep(0.5)
    with services.db.read() as s:
        rows = s.exec(select(DeviceCommand).where(DeviceCommand.id.in_(ids))).all()
    ms = lambda a, b: (b - a).total_seconds() * 1000  # noqa: E731
    ack = [ms(c.sent_at, c.acked_at) for c in rows if c.sent_at and c.acked_at]
    result = [ms(c.sent_at, c.finished_at) for c in rows if c.sent_at and c.finished_at]
    pickup = [ms(c.created_at, c.sent_at) for c in rows if c.sent_at]
    statuses: dict[str, int] = {}
    for c in rows:
        statuses[c.status] = statuses.get(c.status, 0) + 1
    r1 = lambda v: None if v is None else round(v, 1)  # noqa: E731
    return {"commands": len(rows), "statuses": statuses,
            "pickup_p50_ms": r1(pct(pickup, 50)), "pickup_p99_ms": r1(pct(pickup, 99)),
            "ack_p50_ms": r1(pct(ack, 50)), "ack_p99_ms": r1(pct(ack, 99)), "ack_max_ms": r1(max(ack, default=None)),
            "result_p50_ms": r1(pct(result, 50)), "result_p99_ms": r1(pct(result, 99))}
