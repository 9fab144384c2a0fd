"""Workbench wizards save ordinary strategies; schedules fire as events at local times."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlmodel import select

from config.clock import UTC, as_utc
from engine.authoring import update_strategy
from engine.lifecycle import set_enabled
from engine.schedule_triggers import fire_due
from engine.workbench import list_tasks, wizard_state
from events.models import EventRecord
from rules.models import ScheduleTrigger, Strategy, StrategyGroup
from rules.templates import TemplateError
from tests.engine.test_workbench_kit import Bench

PUSH = {"name": "晚间直播通知", "text": "今晚 8 点直播", "repeat": "daily", "times": "10:30,15:00", "retries": 0}


@pytest.fixture
def bench(kit):
    return Bench(kit)


def test_wizard_save_creates_a_disabled_strategy_editable_in_strategy_management(bench):
    a = bench.account("wx_a")
    g = bench.group(a, "room1@chatroom")
    sid = bench.save("group_push", {**PUSH, "group_ids": [g]}, enable=False)
    with bench.svc.db.write() as s:
        st = s.get(Strategy, sid)
        assert (st.enabled, st.template_key) == (False, "group_push")
        assert s.get(StrategyGroup, st.group_id).name == "工作台·社群推送"
        state = wizard_state(s, st)
        assert state["config"]["text"] == "今晚 8 点直播" and state["schedule_key"].startswith("wb-group_push-")
        triggers = list(s.exec(select(ScheduleTrigger).where(ScheduleTrigger.strategy_id == sid)))
        assert sorted(t.cron for t in triggers) == ["0 15 * * *", "30 10 * * *"]
        # 自动化策略管理 edits the same strategy: a hand edit that drops the wizard key…
        steps = [{**st.steps[0], "config": {k: v for k, v in st.steps[0]["config"].items() if k != "wizard"}}]
        update_strategy(s, sid, {"name": "改过的名字", "group_id": st.group_id, "event_id": st.event_id,
                                 "conditions": st.conditions, "steps": steps}, bench.rt.registry, "Asia/Shanghai", "hand")
    with bench.svc.db.read() as s:
        st = s.get(Strategy, sid)
        assert st.name == "改过的名字" and st.version == 2
        # …and the wizard still reopens with its answers (from the last version that had them).
        assert wizard_state(s, st)["config"]["name"] == "晚间直播通知"
    # Saving the wizard again updates the same strategy and keeps the schedule key.
    key = state["schedule_key"]
    bench.save("group_push", {**PUSH, "group_ids": [g], "times": "11:00"}, enable=False, strategy_id=sid)
    with bench.svc.db.read() as s:
        assert wizard_state(s, s.get(Strategy, sid))["schedule_key"] == key
        assert [t.cron for t in s.exec(select(ScheduleTrigger).where(ScheduleTrigger.strategy_id == sid))] == ["0 11 * * *"]
        assert len(list(s.exec(select(Strategy)))) == 1
        rows = list_tasks(s, "group_push")
        assert rows[0]["strategy"].id == sid and rows[0]["next_fire_at"] == datetime(2026, 11, 20, 3, 0, tzinfo=UTC)


def test_one_time_schedule_in_the_past_is_refused(bench):
    g = bench.group(bench.account("wx_a"), "r@chatroom")
    with pytest.raises(TemplateError) as err:
        bench.save("group_push", {**PUSH, "group_ids": [g], "repeat": "once", "run_at": "2026-11-20 09:00"})
    assert "已过" in err.value.errors["run_at"]


def _fired(bench) -> list:
    with bench.svc.db.read() as s:
        return list(s.exec(select(EventRecord).where(EventRecord.event_code == "schedule.fired").order_by(EventRecord.id)))


def test_schedule_triggers_fire_at_local_times_and_advance(bench):
    a = bench.account("wx_a")
    groups = [bench.group(a, f"room{i}@chatroom") for i in range(2)]
    # Clock: 2026-11-20 10:00 Asia/Shanghai (02:00 UTC). Slots 10:30 and 15:00 local.
    sid = bench.save("group_push", {**PUSH, "group_ids": groups})
    off = bench.save("reminder", {"name": "停用的提醒", "group_ids": groups, "text": "打卡", "repeat": "daily", "times": "10:30"},
                     enable=False)
    assert fire_due(bench.rt) == "没有到期的定时触发器"
    bench.at(datetime(2026, 11, 20, 2, 30, tzinfo=UTC))  # 10:30 local
    assert fire_due(bench.rt) == "定时触发 1 个，策略未启用跳过 1 个"
    events = _fired(bench)
    assert [e.data["strategy_id"] for e in events] == [sid] and events[0].source == "schedule"
    with bench.svc.db.read() as s:
        nxt = {t.strategy_id: as_utc(t.next_fire_at) for t in s.exec(select(ScheduleTrigger).where(ScheduleTrigger.cron == "30 10 * * *"))}
    assert nxt == {sid: datetime(2026, 11, 21, 2, 30, tzinfo=UTC), off: datetime(2026, 11, 21, 2, 30, tzinfo=UTC)}
    bench.rt.tick()
    assert len(bench.commands("send_text")) == 2  # one per group
    # The same minute again fires nothing; 15:00 local fires the other trigger.
    assert fire_due(bench.rt) == "没有到期的定时触发器"
    bench.at(datetime(2026, 11, 20, 7, 0, 20, tzinfo=UTC))
    fire_due(bench.rt)
    assert len(_fired(bench)) == 2
    # After a day of downtime each trigger fires once, not once per missed slot.
    bench.at(datetime(2026, 11, 23, 8, 0, tzinfo=UTC))
    fire_due(bench.rt)
    assert len(_fired(bench)) == 4
    with bench.svc.db.read() as s:
        assert sorted(as_utc(t.next_fire_at) for t in s.exec(select(ScheduleTrigger).where(ScheduleTrigger.strategy_id == sid))) == [
            datetime(2026, 11, 24, 2, 30, tzinfo=UTC), datetime(2026, 11, 24, 7, 0, tzinfo=UTC)]


def test_one_time_trigger_fires_once_and_is_spent(bench):
    g = bench.group(bench.account("wx_a"), "r@chatroom")
    sid = bench.save("group_push", {**PUSH, "group_ids": [g], "repeat": "once", "run_at": "2026-11-20 12:00"})
    bench.at(datetime(2026, 11, 20, 4, 0, 5, tzinfo=UTC))
    fire_due(bench.rt)
    bench.at(datetime(2026, 11, 20, 4, 1, tzinfo=UTC))
    fire_due(bench.rt)
    assert len(_fired(bench)) == 1
    with bench.svc.db.read() as s:
        t = s.exec(select(ScheduleTrigger).where(ScheduleTrigger.strategy_id == sid)).one()
        assert (t.enabled, t.next_fire_at, as_utc(t.last_fired_at)) == (False, None, datetime(2026, 11, 20, 4, 0, tzinfo=UTC))


def test_disabling_keeps_the_task_listed_and_delete_removes_triggers(bench):
    from engine.workbench import delete_task

    g = bench.group(bench.account("wx_a"), "r@chatroom")
    sid = bench.save("group_push", {**PUSH, "group_ids": [g]})
    with bench.svc.db.write() as s:
        set_enabled(s, [sid], False)
        assert list_tasks(s, "group_push")[0]["strategy"].enabled is False
        delete_task(s, sid)
        assert list(s.exec(select(ScheduleTrigger))) == []
        assert list_tasks(s, "group_push") == []


def test_fire_time_is_exact_in_the_zone_across_days():
    from engine.schedule_triggers import next_fire_at

    after = datetime(2026, 11, 20, 16, 30, tzinfo=UTC)  # 00:30 local on the 21st
    assert next_fire_at("0 8 * * sat", None, after, "Asia/Shanghai") == datetime(2026, 11, 21, 0, 0, tzinfo=UTC)
    assert next_fire_at("", datetime(2026, 11, 20, 16, 0, tzinfo=UTC), after, "Asia/Shanghai") is None
    assert next_fire_at("0 8 * * *", None, after - timedelta(days=1), "UTC") == datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
