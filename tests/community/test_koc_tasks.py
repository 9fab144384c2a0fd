"""KOC tasks checked against the group's messages: a topic needs N replies after the KOC's message
(with the keyword, long enough), an activity N distinct participants, both within the due time;
an overdue task expires; a task can be confirmed by hand. Groups have one KOC."""
from __future__ import annotations

from datetime import timedelta

import pytest

from community.errors import CommunityError
from community.koc import roster, tasks
from community.koc.models import KocTask
from conversations.store import NewMessage, record_message
from crm.customers.models import Customer
from devices.models import ChatGroup, Friend, WechatAccount


@pytest.fixture
def world(db, clock):
    with db.write() as s:
        acc = WechatAccount(wxid="wx_robot", nickname="客服")
        s.add(acc)
        s.flush()
        group = ChatGroup(account_id=acc.id, chatroom_id="g@chatroom", name="辅食群")
        other = ChatGroup(account_id=acc.id, chatroom_id="h@chatroom", name="睡眠群")
        c1, c2 = Customer(name="小美"), Customer(name="小丽")
        s.add_all([group, other, c1, c2])
        s.flush()
        s.add(Friend(account_id=acc.id, wxid="wx_koc", nickname="小美", customer_id=c1.id))
        koc = roster.mark(s, customer_id=c1.id, now=clock.now(), tz="Asia/Shanghai")
        roster.set_groups(s, koc.id, [group.id], clock.now())
        second = roster.mark(s, customer_id=c2.id, wxid="wx_koc2", now=clock.now(), tz="Asia/Shanghai")
        return {"acc": acc.id, "group": group.id, "other": other.id, "koc": koc.id, "koc2": second.id}


def say(db, clock, w, sender, text):
    with db.write() as s:
        record_message(s, NewMessage(channel="wechat", account_id=w["acc"], kind="group", peer_id="g@chatroom",
                                     direction="in", text=text, sender_id=sender, group_id=w["group"],
                                     external_id=f"{sender}:{text}:{clock.now().timestamp()}"), clock.now())
    clock.advance(seconds=30)


def give(db, clock, w, **data):
    with db.write() as s:
        base = {"title": "任务", "group_id": w["group"], "due_at": clock.now() + timedelta(hours=2), "min_replies": 2}
        return tasks.create(s, roster.get(s, w["koc"]), {**base, **data}, operator_id=None, now=clock.now()).id


def status(db, task_id):
    with db.read() as s:
        t = s.get(KocTask, task_id)
        return t.status, t.evidence


def test_topic_needs_keyword_length_and_replies_activity_needs_distinct_people(db, clock, world):
    topic = give(db, clock, world, kind="topic", keyword="辅食", min_chars=8)
    activity = give(db, clock, world, kind="activity", keyword="接龙")
    say(db, clock, world, "wx_koc", "辅食？")  # too short
    say(db, clock, world, "wx_m1", "好")
    say(db, clock, world, "wx_m2", "好")
    with db.write() as s:
        assert tasks.check(s, clock.now()) == {"done": 0, "expired": 0}
    say(db, clock, world, "wx_koc", "今天聊聊宝宝辅食怎么添加")
    say(db, clock, world, "wx_m1", "我家先加米粉")
    say(db, clock, world, "wx_koc", "周六亲子活动接龙：1. 小美")
    say(db, clock, world, "wx_m1", "2. 跑友一")
    say(db, clock, world, "wx_m1", "改一下")  # the same person again: one participant
    with db.write() as s:
        tasks.check(s, clock.now())
    assert status(db, topic)[0] == "done" and "3 条回复" in status(db, topic)[1]
    assert "10:01 发起「今天聊聊宝宝辅食怎么添加」" in status(db, topic)[1]  # local time
    assert status(db, activity)[0] == "open"
    say(db, clock, world, "wx_m3", "3. 跑友三")
    with db.write() as s:
        tasks.check(s, clock.now())
    assert status(db, activity) == ("done", status(db, activity)[1]) and "2 人参与" in status(db, activity)[1]


def test_overdue_tasks_expire_and_manual_confirmation(db, clock, world):
    topic = give(db, clock, world, kind="topic")
    checkin = give(db, clock, world, kind="checkin")
    clock.advance(hours=3)
    say(db, clock, world, "wx_koc", "迟到的话题")  # after the due time: does not count
    say(db, clock, world, "wx_m1", "回复")
    say(db, clock, world, "wx_m2", "回复")
    with db.write() as s:
        assert tasks.check(s, clock.now()) == {"done": 0, "expired": 2}
        tasks.mark_done(s, checkin, 1, "线下组织了", clock.now())
    assert status(db, topic)[0] == "expired"
    assert status(db, checkin) == ("done", "人工确认：线下组织了")
    with db.write() as s, pytest.raises(CommunityError):
        tasks.mark_done(s, checkin, 1, "", clock.now())


def test_bad_tasks_and_a_group_led_by_another_are_refused(db, clock, world):
    with pytest.raises(CommunityError) as info:
        give(db, clock, world, kind="topic", group_id=world["other"])
    assert "group_id" in info.value.errors
    with pytest.raises(CommunityError) as info:
        give(db, clock, world, kind="nope", due_at=clock.now() - timedelta(hours=1), min_replies="x")
    assert set(info.value.errors) >= {"kind", "due_at", "min_replies"}
    with db.write() as s, pytest.raises(CommunityError) as info:
        roster.set_groups(s, world["koc2"], [world["group"]], clock.now())
    assert "已由 小美 带领" in info.value.message


def test_the_cron_job_checks_open_tasks(db, clock, world, services):
    from engine.cron import CRON_JOBS

    task = give(db, clock, world, kind="topic")
    clock.advance(hours=3)
    job = next(j for j in CRON_JOBS if j.key == "koc_tasks_check")

    class Rt:
        pass
    rt = Rt()
    rt.services = services
    assert job.run(rt) == "KOC 任务：完成 0 个，逾期 1 个"
    assert status(db, task)[0] == "expired"
