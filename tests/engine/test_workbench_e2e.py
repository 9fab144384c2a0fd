"""End to end over real sockets: simulated phones talk to the live server's device gateway; the
workbench's strategies run in the app's runtime (ticked by the test, with the manual clock moved
so the risk budget's send gaps pass).

1. A friend request with greeting "课程" is auto-accepted by rule; the new friend gets the welcome
   message, is tagged, and is distributed 2:1 between two accounts — all of it in 事件历史.
2. A push to 100 simulated groups (one of them dissolved) reports ≥ 99% delivered and names the failure.
"""
from __future__ import annotations

from collections import Counter
from datetime import datetime

import pytest
from sqlmodel import select

from config.clock import UTC
from devices.models import AutoAcceptRule, ChatGroup, DeviceCommand, Friend, WechatAccount
from engine.lifecycle import set_enabled
from engine.models import StrategyRun, StrategyTask
from engine.schedule_triggers import fire_due
from engine.workbench import save_task
from events.definitions import import_builtin
from events.models import EventRecord
from handlers.builtin.workbench_group_push import delivery_report, push_runs
from tests.devices.gateway.conftest import fleet, gateway, make_devices, ws_url  # noqa: F401 - gateway fixtures
from tests.web.conftest import app, app_db, live_server  # noqa: F401 - the live app

pytestmark = pytest.mark.slow


def _save(rt, key: str, config: dict) -> int:
    with rt.services.db.write() as s:
        import_builtin(s)
        st = save_task(s, key, config, rt.registry, rt.settings.timezone, rt.services.now(), user="e2e")
        set_enabled(s, [st.id], True)
        sid = st.id
    rt.invalidate()
    return sid


def _move_clock(f, gateway, clock, seconds: float) -> None:
    """Moves the manual clock in steps of at most 60 s (less than the 90 s offline window), each
    only once every connected phone has sent a frame at the clock's time: the phones heartbeat in
    real time, so one long jump would let the gateway's offline sweep find them all silent and
    hang one up before its next heartbeat arrives (the flake this test once had under load)."""
    while seconds > 0:
        step = min(seconds, 60)
        clock.advance(seconds=step)
        seconds -= step
        now = clock.now()
        assert f.wait_for(lambda: all(c.last_frame_at is not None and c.last_frame_at >= now
                                      for c in gateway.registry.all())), "a phone stopped heartbeating"


def _drive(f, gateway, rt, clock, done, rounds: int = 120) -> bool:
    """Ticks the engine and moves the manual clock until `done()` (the phones answer in real time)."""
    for _ in range(rounds):
        rt.tick()
        if f.wait_for(done, timeout=0.3):
            return True
        _move_clock(f, gateway, clock, 9)
    return done()


def _commands(db, kind: str) -> list[DeviceCommand]:
    with db.read() as s:
        return list(s.exec(select(DeviceCommand).where(DeviceCommand.kind == kind).order_by(DeviceCommand.id)))


def test_course_lead_is_accepted_welcomed_tagged_and_split_two_to_one(app, app_db, clock, fleet, gateway, make_devices):  # noqa: F811
    rt = app.extensions["ckb"]
    with app_db.write() as s:
        s.add(AutoAcceptRule(name="课程咨询自动通过", keywords=["课程"], daily_cap=20))
    [(_id, token)] = make_devices()
    f = fleet([token], accounts=(3, 3), friends=2, groups=1, members=2, min_send_gap=0.0, heartbeat_seconds=0.2)
    with app_db.read() as s:
        entry, a, b = [acc.id for acc in s.exec(select(WechatAccount).order_by(WechatAccount.id))]
        entry_wxid = s.get(WechatAccount, entry).wxid
    sid = _save(rt, "traffic_split", {
        "name": "课程线索分发", "source": "new_friend", "source_account_ids": [entry], "mode": "ratio",
        "targets": [{"id": a, "weight": 2}, {"id": b, "weight": 1}], "start_time": "00:00", "end_time": "23:59",
        "greeting": "你好，我是课程顾问", "welcome_text": "${nickname} 你好，欢迎咨询课程！", "tags": "课程"})
    leads = [f"wxid_course{i}" for i in range(6)]
    phone_account = [i for i, acc in enumerate(f.phones[0].accounts) if acc.wxid == entry_wxid][0]
    for i, wxid in enumerate(leads):
        assert f.report(0, "friend_request", {"from_wxid": wxid, "nickname": f"学员{i}", "greeting": "想了解课程",
                                              "source": "search"}, account=phone_account)["ok"]

    def finished() -> bool:
        with app_db.read() as s:
            done = s.exec(select(DeviceCommand).where(DeviceCommand.status == "succeeded",
                                                      DeviceCommand.kind.in_(["add_friend", "send_text"]))).all()
            return len(done) == 12
    assert _drive(f, gateway, rt, clock, finished), Counter((c.kind, c.status) for c in _commands(app_db, "add_friend") + _commands(app_db, "send_text"))

    accepts = _commands(app_db, "accept_friend")
    assert [c.payload["wxid"] for c in accepts] == leads and all(c.status == "succeeded" for c in accepts)
    welcomes = _commands(app_db, "send_text")
    assert sorted(c.payload["to"] for c in welcomes) == sorted(leads)
    assert all(c.account_id == entry and "欢迎咨询课程" in c.payload["text"] for c in welcomes)
    adds = _commands(app_db, "add_friend")
    assert Counter(c.account_id for c in adds) == {a: 4, b: 2}
    # Weighted round-robin in the order the distribution ran (command ids); the phone answers the
    # accepts with random delays, so that order need not be the order the requests arrived in.
    assert [c.account_id for c in sorted(adds, key=lambda c: c.id)] == [a, a, b, a, a, b]
    with app_db.read() as s:
        friends = {fr.wxid: fr for fr in s.exec(select(Friend).where(Friend.account_id == entry, Friend.wxid.in_(leads)))}
        assert set(friends) == set(leads) and all("课程" in fr.tags for fr in friends.values())
        # 事件历史: request → accepted (command result) → friend added → the strategy's three steps.
        codes = Counter(e.event_code for e in s.exec(select(EventRecord)))
        assert codes["device.friend_request"] == 6 and codes["device.friend_added"] >= 6
        runs = s.exec(select(StrategyRun).where(StrategyRun.strategy_id == sid, StrategyRun.matched == True)).all()  # noqa: E712
        assert len(runs) == 6
        tasks = Counter((t.processor_key, t.status) for t in s.exec(select(StrategyTask).where(StrategyTask.strategy_id == sid)))
        assert tasks == {("device.distribute", "done"): 6, ("device.send_message", "done"): 6, ("device.tag_friend", "done"): 6}


def test_push_to_100_simulated_groups_reports_99_percent_with_the_failure_named(app, app_db, clock, fleet, gateway, make_devices):  # noqa: F811
    rt = app.extensions["ckb"]
    tokens = [token for _id, token in make_devices(5)]
    f = fleet(tokens, accounts=(2, 2), friends=3, groups=10, members=2, min_send_gap=0.0, heartbeat_seconds=0.2)
    dissolved = next(iter(f.phones[0].accounts[0].groups.values()))
    dissolved.failing = "群已解散，消息发送失败"
    with app_db.read() as s:
        groups = {g.chatroom_id: g.id for g in s.exec(select(ChatGroup))}
    assert len(groups) == 100
    sid = _save(rt, "group_push", {"name": "百群推送", "group_ids": sorted(groups.values()), "text": "今晚 8 点直播开课",
                                   "repeat": "once", "run_at": "2026-11-20 10:05", "interval_seconds": 3, "retries": 0})
    _move_clock(f, gateway, clock, (datetime(2026, 11, 20, 2, 5, tzinfo=UTC) - clock.now()).total_seconds())
    assert fire_due(rt) == "定时触发 1 个"

    def settled() -> bool:
        with app_db.read() as s:
            runs = push_runs(s, sid)
            report = delivery_report(s, runs[0]) if runs else None
        return bool(report) and report["total"] == 100 and report["in_flight"] == 0
    assert _drive(f, gateway, rt, clock, settled, rounds=200), (clock.now(), [(c.status, c.not_before, c.device_id, c.account_id) for c in _commands(app_db, "send_text")][:6], f.stats())
    with app_db.read() as s:
        report = delivery_report(s, push_runs(s, sid)[0])
    assert report["rate"] >= 99.0 and report["delivered"] == 99
    [failed] = [r for r in report["rows"] if r["state"] == "failed"]
    assert failed["group_id"] == groups[dissolved.chatroom_id] and failed["why"] == "群已解散，消息发送失败"
