"""群活监控 with a ManualClock: a dead group raises exactly one alert and fires its strategy once
through the real engine; an episode closes when the condition clears and only then may a new one
open; churning and low-speaker rules; rule validation."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from community.activity.alert_events import ensure_definitions
from community.activity.alerts import evaluate, save_rule
from community.activity.models import GroupAlert
from community.activity.rollup import roll_up
from community.errors import CommunityError
from community.schedule import activity_job
from devices.models import ChatGroupMember
from engine.models import StrategyTask
from events.models import EventRecord
from tests.community.support import make_account, make_group, say
from tests.engine.conftest import row
from tests.handlers.crm_kit import step

TZ = "Asia/Shanghai"


def _alerts(db):
    with db.read() as s:
        return list(s.exec(select(GroupAlert).order_by(GroupAlert.id)))


def _tasks(db):
    with db.read() as s:
        return list(s.exec(select(StrategyTask).order_by(StrategyTask.id)))


def test_dead_group_raises_one_alert_and_fires_its_strategy_once(kit, clock):
    db, svc = kit.svc.db, kit.svc
    with db.write() as s:
        ensure_definitions(s)
        acc = make_account(s, owner_user_id=None)
        dead = make_group(s, acc, "dead@chatroom", ["a", "b"], clock.now() - timedelta(days=30), name="沉默群")
        alive = make_group(s, acc, "alive@chatroom", ["a", "b"], clock.now() - timedelta(days=30), name="热闹群")
        say(s, acc, "dead@chatroom", dead, "a", clock.now())
        save_rule(s, {"name": "死群预警", "kind": "silent", "days": "7"}, None, clock.now())
    kit.rt.invalidate()
    kit.strategy("group.inactive", [row("kind", "eq", "silent")],
                 [step("log", message="群「${group_name}」${detail}")], name="死群提醒")
    for _ in range(6):  # six quiet days, the lively group talking every day: nothing yet
        clock.advance(days=1)
        with db.write() as s:
            say(s, acc, "alive@chatroom", alive, "b", clock.now() - timedelta(minutes=1))
        activity_job(svc)
    assert _alerts(db) == []
    clock.advance(days=1)
    with db.write() as s:
        say(s, acc, "alive@chatroom", alive, "b", clock.now() - timedelta(minutes=1))
    activity_job(svc)
    for _ in range(5):  # every minute the job runs again: still one episode
        clock.advance(minutes=1)
        activity_job(svc)
    kit.rt.tick()
    [alert] = _alerts(db)
    assert (alert.group_id, alert.status, alert.kind) == (dead, "open", "silent")
    assert alert.detail.startswith("已 7 天无消息")
    [task] = _tasks(db)
    assert task.status == "done" and "沉默群" in task.note
    with db.read() as s:
        assert len(s.exec(select(EventRecord).where(EventRecord.event_code == "group.inactive")).all()) == 1

    with db.write() as s:  # someone speaks: the episode ends
        say(s, acc, "dead@chatroom", dead, "a", clock.now())
    clock.advance(minutes=1)
    activity_job(svc)
    [alert] = _alerts(db)
    assert alert.status == "closed" and alert.closed_at == clock.now()
    clock.advance(days=7, minutes=1)  # silent again for a week: a new episode, a second firing
    with db.write() as s:
        say(s, acc, "alive@chatroom", alive, "b", clock.now() - timedelta(minutes=1))
    activity_job(svc)
    kit.rt.tick()
    assert [(a.group_id, a.status) for a in _alerts(db)] == [(dead, "closed"), (dead, "open")]
    assert len(_tasks(db)) == 2


def test_churning_and_low_speakers(db, clock):
    now = clock.now()
    with db.write() as s:
        acc = make_account(s)
        gid = make_group(s, acc, "c@chatroom", [f"m{i}" for i in range(20)], now - timedelta(days=20))
        for i in range(3):
            s.add(ChatGroupMember(group_id=gid, wxid=f"q{i}", joined_at=now - timedelta(days=20),
                                  left_at=now - timedelta(days=1, hours=i)))
        s.add(ChatGroupMember(group_id=gid, wxid="n1", joined_at=now - timedelta(days=2)))
        say(s, acc, "c@chatroom", gid, "m1", now - timedelta(days=1))
        churn = save_rule(s, {"name": "流失", "kind": "churning", "days": 3}, None, now).id
        low = save_rule(s, {"name": "发言少", "kind": "low_speakers", "days": 7, "threshold": 10,
                            "group_id": gid}, None, now).id
        ensure_definitions(s)
    with db.write() as s:
        for day in range(4):  # the days the joins and quits happened are recounted
            from community.activity.rollup import recompute_day
            from community.activity.days import day_of
            recompute_day(s, day_of(now - timedelta(days=day), TZ), TZ, now)
        roll_up(s, now, TZ)
        assert evaluate(s, now, TZ)["opened"] == 2
    by_rule = {a.rule_id: a for a in _alerts(db)}
    assert by_rule[churn].detail == "近 3 天退群 3 人，入群 1 人" and by_rule[churn].event_code == "group.churning"
    assert by_rule[low].figures["speakers"] == 1 and by_rule[low].event_code == "group.inactive"


@pytest.mark.parametrize("values, field", [
    ({"name": "", "kind": "silent", "days": 7}, "name"),
    ({"name": "x", "kind": "nope", "days": 7}, "kind"),
    ({"name": "x", "kind": "silent", "days": "abc"}, "days"),
    ({"name": "x", "kind": "silent", "days": 0}, "days"),
    ({"name": "x", "kind": "low_speakers", "days": 7, "threshold": 101}, "threshold"),
    ({"name": "x", "kind": "silent", "days": 7, "group_id": 999999}, "group_id"),
])
def test_rule_validation_names_the_field(db, clock, values, field):
    with pytest.raises(CommunityError) as info:
        with db.write() as s:
            save_rule(s, values, None, clock.now())
    assert field in info.value.errors
