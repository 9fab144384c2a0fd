"""Strategies reload without restart: an edit made by one process reaches another within its poll."""
from __future__ import annotations

from sqlmodel import select

from engine.authoring import update_strategy
from engine.models import StrategyTask
from engine.runtime import Runtime
from tests.engine.conftest import row

LOG = {"processor": "log", "config": {"message": "${customerName}"}, "timing": {"mode": "immediate"}}
EVENT = {"event": "password_changed", "data": {"customerName": "张三", "mobile": "13800138000", "status": "0"}}


def test_edit_in_one_process_applies_in_another(kit, engine_services):
    sid = kit.strategy("password_changed", [row("status", "eq", "1")], [LOG])
    other = Runtime(engine_services)  # a second worker process on the same database
    other.strategies.poll_seconds = 0
    kit.post(EVENT)
    other.tick()
    with engine_services.db.read() as s:
        assert s.exec(select(StrategyTask)).all() == []
    with engine_services.db.write() as s:
        st = update_strategy(s, sid, {"name": "改", "group_id": 1, "event_id": 2,
                                      "conditions": [row("status", "eq", "0")], "steps": [LOG]},
                             kit.rt.registry, "Asia/Shanghai", "tester")
        assert st.version == 2
    kit.post({**EVENT, "id": "after-edit"})
    other.strategies.refresh()  # what its dispatcher does on every batch
    other.tick()
    with engine_services.db.read() as s:
        assert len(s.exec(select(StrategyTask)).all()) == 1
