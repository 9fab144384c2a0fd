"""站内通知管理 (drafts, recipients by user/role/department, attachments with a size cap) and the
任务提醒与逾期 cron (reminder once at remind_at, overdue once with crm.task_overdue)."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlmodel import select

from crm.errors import CrmError
from crm.people.models import Department, Notification, Role, UserDepartment, UserRole
from crm.sales.notices import add_attachment, attachment_file, can_read, save_draft, send_notice
from crm.sales.schedule import CRON_SPECS
from crm.sales.tasks import create_task
from crm.scope import SYSTEM
from events.models import EventRecord


def test_notice_draft_recipients_attachments_and_send(db, clock, people, notice_table, settings):
    author, a, b, c, off = (people.user(n) for n in ("author", "a", "b", "c", "off"))
    with db.write() as s:
        role = Role(code="r1", name="销售")
        top, sub = Department(name="销售部"), Department(name="一组")
        s.add_all([role, top])
        s.flush()
        sub.parent_id = top.id
        s.add(sub)
        s.flush()
        s.add_all([UserRole(user_id=b, role_id=role.id), UserDepartment(user_id=c, department_id=sub.id),
                   UserDepartment(user_id=off, department_id=top.id)])
        from crm.people.models import User
        s.get(User, off).enabled = False
        note = save_draft(s, {"title": "月度目标", "body": "请查收附件", "users": [a], "roles": [role.id],
                              "departments": [top.id]}, author, now=clock.now())
        entry = add_attachment(s, note.id, "../../目标.xlsx", io.BytesIO(b"x" * 100), settings.var_dir)
        with pytest.raises(CrmError, match="超过"):
            add_attachment(s, note.id, "big.bin", io.BytesIO(b"x" * 2048), settings.var_dir, max_bytes=1024)
        nid = note.id
    assert entry["name"] == "目标.xlsx" and entry["size"] == 100
    folder = settings.var_dir / "notice_attachments" / str(nid)
    assert sorted(p.name for p in folder.iterdir()) == [entry["id"]]  # the refused file left nothing
    with db.write() as s:
        assert send_notice(s, nid, now=clock.now()) == 3  # a, b by role, c by sub-department; not disabled
        with pytest.raises(CrmError):
            send_notice(s, nid, now=clock.now())
        with pytest.raises(CrmError):
            save_draft(s, {"title": "改"}, author, notice_id=nid)
    with db.read() as s:
        got = sorted(n.user_id for n in s.exec(select(Notification)))
        notice = s.get(type(note), nid)
        assert got == sorted([a, b, c])
        assert can_read(s, notice, c, False) and not can_read(s, notice, off, False)
        path, name = attachment_file(notice, entry["id"], settings.var_dir)
        assert path.read_bytes() == b"x" * 100 and name == "目标.xlsx"


def test_notice_without_recipients_is_refused(db, people, notice_table):
    author = people.user("author")
    with db.write() as s:
        note = save_draft(s, {"title": "空"}, author)
        with pytest.raises(CrmError, match="收件人"):
            send_notice(s, note.id)


def test_reminders_and_overdue_once(services, clock, people):
    me = people.user("sales1")
    key, _name, cron, fn = CRON_SPECS[0]
    assert key == "task_reminders" and cron == {"minute": "*/5"}
    now = clock.now()
    with services.db.write() as s:
        t = create_task(s, {"title": "回访客户", "owner_id": me, "remind_at": now + timedelta(minutes=10),
                            "deadline": now + timedelta(hours=1)}, creator_id=me, now=now, viewer=SYSTEM)
        create_task(s, {"title": "已完成", "owner_id": me, "deadline": now - timedelta(hours=1), "status": "done"},
                    creator_id=me, now=now, viewer=SYSTEM)
        tid = t.id
    assert fn(services) == "任务提醒 0 条，新逾期任务 0 个"
    clock.advance(minutes=10)
    assert fn(services) == "任务提醒 1 条，新逾期任务 0 个"
    assert fn(services) == "任务提醒 0 条，新逾期任务 0 个"
    clock.advance(minutes=55)
    assert fn(services) == "任务提醒 0 条，新逾期任务 1 个"
    assert fn(services) == "任务提醒 0 条，新逾期任务 0 个"
    with services.db.read() as s:
        titles = [n.title for n in s.exec(select(Notification).order_by(Notification.id))]
        events = s.exec(select(EventRecord).where(EventRecord.event_code == "crm.task_overdue")).all()
    assert titles == ["任务提醒：回访客户", "任务已逾期：回访客户"]
    assert len(events) == 1 and events[0].data["task_id"] == tid


def test_a_stale_task_reminds_no_one_of_a_customer_handed_over(services, clock, people):
    """A 跟进任务 left with A after the customer went to B is marked, but A is not told its name."""
    a, b = people.user("sales_a"), people.user("sales_b")
    handed = people.customer("王五旧客", owner_id=b)
    now = clock.now()
    with services.db.write() as s:
        for title, customer in (("跟进客户 王五旧客", handed), ("无客户的任务", None)):
            create_task(s, {"title": title, "owner_id": a, "customer_id": customer, "remind_at": now,
                            "deadline": now + timedelta(minutes=1)}, creator_id=a, now=now, viewer=SYSTEM)
    clock.advance(minutes=5)
    assert CRON_SPECS[0][3](services) == "任务提醒 2 条，新逾期任务 2 个"
    with services.db.read() as s:
        titles = [n.title for n in s.exec(select(Notification).order_by(Notification.id))]
        events = s.exec(select(EventRecord).where(EventRecord.event_code == "crm.task_overdue")).all()
    assert titles == ["任务提醒：无客户的任务", "任务已逾期：无客户的任务"]
    assert len(events) == 2  # strategies still hear of every overdue task
