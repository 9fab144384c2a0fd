"""Issue 9 item 17 end to end: a flood of events texting one number sends one SMS a minute;
the rest wait in the ledger with the cap named (deferred, spending no attempt), instead of all
going out at once."""
from __future__ import annotations

import pytest
from sqlmodel import select

from config.clock import as_utc
from engine.models import StrategyTask
from engine.runtime import Runtime
from handlers.models import SmsMessage
from tests.engine.conftest import Kit
from tests.support import with_settings

STEP = {"processor": "sms", "config": {"mobile": "${mobile}", "content": "第 ${customerName} 条"},
        "timing": {"mode": "immediate"}}


@pytest.fixture
def kit(services):
    rt = Runtime(with_settings(services, sms_per_number_per_minute=1, sms_per_number_per_hour=5,
                               sms_per_number_per_day=10))
    yield Kit(rt)
    rt.stop()


def test_flood_to_one_number_is_held_to_the_cap(kit, clock):
    kit.strategy("password_changed", [], [STEP])
    events = [{"id": f"e{i}", "event": "password_changed",
               "data": {"customerName": str(i), "mobile": "13800138000", "status": "1"}} for i in range(30)]
    kit.post({"events": events})
    kit.rt.tick()
    with kit.svc.db.read() as s:
        sms = s.exec(select(SmsMessage)).all()
        tasks = s.exec(select(StrategyTask)).all()
    assert len(sms) == 1
    waiting = [t for t in tasks if t.status == "pending"]  # deferred: back in the queue, no attempt spent
    assert len(waiting) == 29 and all("每分钟 1 条" in t.last_error for t in waiting)
    assert all(t.attempts == 0 for t in waiting)
    assert all((as_utc(t.due_at) - clock.now()).total_seconds() >= 50 for t in waiting)  # Retry-After obeyed
