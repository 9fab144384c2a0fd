"""The workbench steps through the engine: batched welcomes, keyword cool-down, check-ins and
rankings, a 50-group push with its per-group report, and weighted 2:1 distribution."""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import pytest
from sqlalchemy import update
from sqlmodel import select

from config.clock import UTC
from devices.models import CheckIn, DeviceCommand
from engine.models import StrategyTask
from engine.schedule_triggers import fire_due
from handlers.builtin.workbench_checkin import rankings
from handlers.builtin.workbench_group_push import delivery_report, push_runs
from tests.engine.test_workbench_kit import Bench


@pytest.fixture
def bench(kit):
    return Bench(kit)


def _notes(bench, processor: str) -> list[str]:
    with bench.svc.db.read() as s:
        return [t.note for t in s.exec(select(StrategyTask).where(StrategyTask.processor_key == processor).order_by(StrategyTask.id))]


def test_three_joiners_in_the_window_get_one_welcome_mentioning_all(bench):
    a = bench.account("wx_owner")
    g = bench.group(a, "vip@chatroom", "VIP 1 群")
    bench.save("group_welcome", {"name": "欢迎", "group_ids": [g], "text": "欢迎 {members} 加入「{group}」", "window_seconds": 30})
    for i, nick in enumerate(["小红", "小明", "小刚"]):
        bench.join(g, f"wx_m{i}", nick)
        bench.report("device.group_member_joined", {"account_id": a, "chatroom_id": "vip@chatroom", "group_id": g,
                                                    "members": [{"wxid": f"wx_m{i}", "nickname": nick}], "wxids": [f"wx_m{i}"]})
        bench.rt.tick()
        bench.svc.clock.advance(seconds=5)
    assert bench.commands() == []  # nothing until the window has passed
    bench.svc.clock.advance(seconds=30)
    bench.rt.tick()
    sends = bench.commands("send_text")
    assert len(sends) == 1
    assert sends[0].payload["to"] == "vip@chatroom"
    assert sends[0].payload["mentions"] == ["wx_m0", "wx_m1", "wx_m2"]
    assert sends[0].payload["text"] == "欢迎 @小红 @小明 @小刚 加入「VIP 1 群」"
    notes = _notes(bench, "device.group_welcome")
    assert len(notes) == 3 and "欢迎 3 位新成员" in notes[0] and all("未重复发送" in n for n in notes[1:])
    # A later joiner gets a welcome of their own.
    bench.join(g, "wx_m3", "小李")
    bench.report("device.group_member_joined", {"account_id": a, "chatroom_id": "vip@chatroom", "group_id": g,
                                                "members": [{"wxid": "wx_m3", "nickname": "小李"}], "wxids": ["wx_m3"]})
    bench.rt.tick()
    bench.svc.clock.advance(seconds=31)
    bench.rt.tick()
    assert [c.payload["mentions"] for c in bench.commands("send_text")] == [["wx_m0", "wx_m1", "wx_m2"], ["wx_m3"]]


def _message(bench, a, sender, text, room=""):
    bench.report("device.message", {"account_id": a, "account_wxid": "wx_owner", "from_wxid": sender, "nickname": sender,
                                    "chatroom_id": room, "is_group": bool(room), "text": text, "msg_type": "text"})
    bench.rt.tick()


def test_keyword_reply_and_per_customer_cooldown(bench):
    a = bench.account("wx_owner")
    bench.save("keyword_reply", {"name": "价格回复", "scope": "private", "cooldown_minutes": 30,
                                 "rules": [{"match": "contains", "keyword": "价格", "reply": "价格表请看链接"},
                                           {"match": "exact", "keyword": "地址", "reply": "北京市朝阳区"}]})
    _message(bench, a, "wx_c1", "请问价格多少")
    _message(bench, a, "wx_c1", "价格能便宜点吗")  # within the cool-down: no second reply
    _message(bench, a, "wx_c2", "地址")
    _message(bench, a, "wx_c2", "你好")  # no rule: the matcher never makes a step
    _message(bench, a, "wx_c3", "价格", room="g@chatroom")  # a group message: out of scope
    replies = bench.commands("send_text")
    assert [(c.payload["to"], c.payload["text"]) for c in replies] == [("wx_c1", "价格表请看链接"), ("wx_c2", "北京市朝阳区")]
    assert "分钟内已回复过" in _notes(bench, "workbench.keyword_reply")[1]
    bench.svc.clock.advance(minutes=31)
    _message(bench, a, "wx_c1", "价格？")
    assert len(bench.commands("send_text")) == 3


def test_checkin_counts_once_per_member_per_day_and_ranks(bench):
    a = bench.account("wx_owner")
    g = bench.group(a, "run@chatroom", "跑步群")
    bench.save("checkin", {"name": "早起打卡", "group_ids": [g], "keyword": "打卡", "points": 2})
    for who in ["wx_a", "wx_b", "wx_a", "wx_c"]:
        _message(bench, a, who, "打卡", room="run@chatroom")
    _message(bench, a, "wx_b", "今天天气不错", room="run@chatroom")
    bench.svc.clock.advance(days=1)
    _message(bench, a, "wx_a", "打卡 第二天", room="run@chatroom")
    with bench.svc.db.read() as s:
        assert s.exec(select(CheckIn).where(CheckIn.member_wxid == "wx_a")).all().__len__() == 2
        top = rankings(s, [g])
    assert [(r["wxid"], r["days"], r["points"]) for r in top] == [("wx_a", 2, 4), ("wx_b", 1, 2), ("wx_c", 1, 2)]
    replies = [c.payload["text"] for c in bench.commands("send_text")]
    assert replies[0] == "@wx_a 打卡成功！今天第 1 位，累计打卡 1 天"
    assert replies[2] == "@wx_c 打卡成功！今天第 3 位，累计打卡 1 天" and len(replies) == 4
    assert "今天已经打过卡" in _notes(bench, "workbench.checkin")[2]


def test_group_push_to_50_groups_issues_50_commands_with_a_per_group_report(bench):
    owners = [bench.account(f"wx_owner{i}") for i in range(5)]
    groups = [bench.group(owners[i % 5], f"room{i}@chatroom", f"客户群{i}") for i in range(50)]
    sid = bench.save("group_push", {"name": "双十一预告", "group_ids": groups, "text": "双十一直播预告", "repeat": "once",
                                    "run_at": "2026-11-20 10:05", "interval_seconds": 3, "retries": 0})
    bench.at(datetime(2026, 11, 20, 2, 5, tzinfo=UTC))
    fire_due(bench.rt)
    bench.rt.tick()
    sends = bench.commands("send_text")
    assert len(sends) == 50 and {c.payload["to"] for c in sends} == {f"room{i}@chatroom" for i in range(50)}
    assert Counter(c.status for c in sends) == {"queued": 50}
    # The phones report: 49 delivered, one failed (the group was dissolved).
    with bench.svc.db.write() as s:
        s.execute(update(DeviceCommand).values(status="succeeded"))
        s.execute(update(DeviceCommand).where(DeviceCommand.id == sends[7].id).values(status="failed", error="群已解散"))
        prefix = push_runs(s, sid)[0]
        report = delivery_report(s, prefix)
    assert (report["total"], report["delivered"], report["failed"], report["rate"]) == (50, 49, 1, 98.0)
    failed = [r for r in report["rows"] if r["state"] == "failed"]
    assert [(r["group"], r["why"]) for r in failed] == [("客户群7", "群已解散")]


def test_distribution_by_weight_two_to_one_is_exact(bench):
    entry = bench.account("wx_entry")
    a = bench.account("wx_a", "顾问A")
    b = bench.account("wx_b", "顾问B")
    sick = bench.account("wx_sick", "低分号", health=20)
    bench.save("traffic_split", {"name": "新好友分发", "source": "new_friend", "source_account_ids": [entry],
                                 "targets": [{"id": a, "weight": 2}, {"id": b, "weight": 1}, {"id": sick, "weight": 5}],
                                 "greeting": "你好，我是顾问"})
    for i in range(9):
        bench.report("device.friend_added", {"account_id": entry, "account_wxid": "wx_entry", "wxid": f"wx_lead{i}",
                                             "nickname": f"客户{i}", "source": "qrcode"})
    bench.rt.tick()
    adds = bench.commands("add_friend")
    assert [c.account_id for c in adds] == [a, a, b] * 3
    assert [c.payload["wxid"] for c in adds] == [f"wx_lead{i}" for i in range(9)]
    assert all(c.payload["greeting"] == "你好，我是顾问" for c in adds)
    assert "低分号 健康分 20 过低" in _notes(bench, "device.distribute")[0]
