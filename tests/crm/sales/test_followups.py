"""跟进记录: recording one finishes its task, counts on the customer and its groups, writes a
成长记录, schedules the next follow-up and emits crm.followup_recorded."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from config.clock import as_utc
from crm.customers.models import Customer, GrowthRecord
from crm.errors import CrmError
from crm.groups.models import CustomerGroup, GroupLink, GroupMember
from crm.sales.followups import list_follow_ups, record_follow_up
from crm.sales.models import FollowUp, Task
from crm.sales.tasks import create_follow_up_tasks
from crm.scope import SYSTEM
from events.models import EventRecord

TZ = "Asia/Shanghai"


def test_follow_up_marks_task_done_and_updates_counters(db, clock, people):
    me, other = people.user("sales1"), people.user("sales2")
    cust = people.customer("王五", mobile="13800138000")
    with db.write() as s:
        mine, theirs = CustomerGroup(name="VIP客户组"), CustomerGroup(name="普通组")
        s.add_all([mine, theirs])
        s.flush()
        s.add_all([GroupMember(group_id=mine.id, user_id=me), GroupMember(group_id=theirs.id, user_id=other),
                   GroupLink(customer_id=cust, group_id=mine.id, assignee_id=me),
                   GroupLink(customer_id=cust, group_id=theirs.id, assignee_id=other)])
        create_follow_up_tasks(s, [(cust, me)], now=clock.now(), tz=TZ)
        task_id = s.exec(select(Task.id)).one()
        mine_id = mine.id
    with db.write() as s:
        fu = record_follow_up(s, {"customer_id": cust, "task_id": task_id, "content": "电话沟通，有意向",
                                  "way": "phone", "status": "intent", "maturity": 60,
                                  "next_follow_on": date(2026, 11, 25)}, me, now=clock.now(), tz=TZ, viewer=SYSTEM)
        fu_id = fu.id
    with db.read() as s:
        task = s.get(Task, task_id)
        assert task.status == "done" and task.progress == 100
        c = s.get(Customer, cust)
        assert c.follow_count == 1 and as_utc(c.last_followed_at) == clock.now()
        links = {l.group_id: l for l in s.exec(select(GroupLink))}
        assert links[mine_id].progress == "intent" and as_utc(links[mine_id].last_followed_at) == clock.now()
        other_link = [l for g, l in links.items() if g != mine_id][0]
        assert other_link.progress == "" and other_link.last_followed_at is None  # not my group
        growth = s.exec(select(GrowthRecord)).one()
        assert growth.kind == "follow" and "电话跟进" in growth.summary and "有意向" in growth.summary
        nxt = s.exec(select(Task).where(Task.id != task_id)).one()
        assert nxt.kind == "follow_up" and nxt.owner_id == me and nxt.status == "todo"
        assert as_utc(nxt.deadline) == datetime(2026, 11, 25, 23, 59, 59, tzinfo=ZoneInfo(TZ))
        event = s.exec(select(EventRecord).where(EventRecord.event_code == "crm.followup_recorded")).one()
        assert event.source == "crm" and event.data["follow_up_id"] == fu_id
        assert [f.id for f in list_follow_ups(s, customer_id=cust)] == [fu_id]


def test_second_follow_up_counts_again_and_bad_input_writes_nothing(db, clock, people):
    me = people.user("sales1")
    cust = people.customer("赵六")
    with db.write() as s:
        record_follow_up(s, {"customer_id": cust, "content": "微信问候", "way": "wechat"}, me, now=clock.now(), viewer=SYSTEM)
    clock.advance(hours=2)
    with db.write() as s:
        record_follow_up(s, {"customer_id": cust, "content": "上门拜访", "way": "visit", "status": "deal",
                             "maturity": 100}, me, now=clock.now(), viewer=SYSTEM)
    with db.write() as s, pytest.raises(CrmError) as err:
        record_follow_up(s, {"customer_id": cust, "content": "", "way": "pigeon", "maturity": 101,
                             "task_id": 424242}, me, now=clock.now(), viewer=SYSTEM)
    assert set(err.value.errors) == {"content", "way", "maturity", "task_id"}
    with db.read() as s:
        c = s.get(Customer, cust)
        assert c.follow_count == 2 and as_utc(c.last_followed_at) == clock.now()
        assert len(s.exec(select(FollowUp)).all()) == 2
