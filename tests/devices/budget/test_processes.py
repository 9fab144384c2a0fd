"""Two worker processes, one account, 200 add-friend commands at once: exactly the day's cap
(20 at health 100) is queued and every other command is deferred to tomorrow with its reason —
on the SQLite database alone, and again with the counters in a real Redis."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter

from sqlmodel import select

from config.clock import as_utc, to_local
from devices.budget import local_day_end
from devices.models import BudgetCounter, DeviceCommand
from tests.devices.budget.conftest import make_account

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def _run_two_workers(services, account_id: int, redis_url: str) -> list[str]:
    start_at = time.time() + 1.5  # both interpreters are up and waiting before anyone issues
    procs = [subprocess.Popen([sys.executable, "-m", "tests.devices.budget.issuer", services.settings.database_url,
                               redis_url or "-", str(account_id), str(first), "100", services.now().isoformat(),
                               str(start_at)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for first in (0, 100)]
    statuses = []
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        statuses += out.strip().split(",")
    return statuses


def _assert_exactly_the_cap(services, account_id: int, statuses: list[str]) -> None:
    assert Counter(statuses) == {"queued": 20, "deferred": 180}
    with services.db.read() as s:
        rows = list(s.exec(select(DeviceCommand).where(DeviceCommand.account_id == account_id)))
    assert len(rows) == 200
    assert Counter(r.status for r in rows) == {"queued": 20, "deferred": 180}
    tomorrow = local_day_end(services.now(), services.settings.timezone)
    deferred = [r for r in rows if r.status == "deferred"]
    assert {as_utc(r.not_before) for r in deferred} == {tomorrow}
    assert {r.reason for r in deferred} == {"今日加好友与通过好友合计已达上限 20 个（健康分 100），明天再执行"}
    # Pacing held across processes too: no two queued commands share a slot.
    slots = sorted(as_utc(r.not_before) for r in rows if r.status == "queued")
    assert all((b - a).total_seconds() >= 5 - 1e-3 for a, b in zip(slots, slots[1:]))


def test_two_processes_on_sqlite_issue_exactly_the_cap(services):
    account_id = make_account(services)
    statuses = _run_two_workers(services, account_id, "")
    _assert_exactly_the_cap(services, account_id, statuses)
    with services.db.read() as s:
        counter = s.exec(select(BudgetCounter).where(BudgetCounter.scope == f"account:{account_id}",
                                                     BudgetCounter.kind == "add_friend")).one()
    assert counter.count == 20


def test_two_processes_with_redis_issue_exactly_the_cap(services, redis_url):
    import redis

    account_id = make_account(services)
    statuses = _run_two_workers(services, account_id, redis_url)
    _assert_exactly_the_cap(services, account_id, statuses)
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    day = to_local(services.now(), services.settings.timezone).date()
    assert client.get(f"ckb:budget:account:{account_id}:{day.isoformat()}:add_friend") == "20"
    client.close()
