"""任务中心: date columns in the configured zone (ManualClock), drag-and-drop moves, follow-up
tasks from allocation, list filters and 我的任务 / 我创建的."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from config.clock import as_utc
from crm.errors import CrmError
from crm.sales.models import Task
from crm.sales.task_views import TaskFilter, board, list_tasks
from crm.sales.tasks import create_follow_up_tasks, create_task, move_task, set_status, update_task
from crm.scope import SYSTEM, Viewer

SH = ZoneInfo("Asia/Shanghai")
TZ = "Asia/Shanghai"


def local(*args) -> datetime:
    return datetime(*args, tzinfo=SH)


def _columns(db, f, kind, now):
    with db.read() as s:
        return {c.key: [r["task"].title for r in c.tasks] for c in board(s, f, kind, now, TZ)}


def test_date_board_groups_by_local_day(db, clock, people):
    # The clock is Friday 2026-11-20 10:00 in Shanghai (02:00 UTC).
    me = people.user("sales1")
    due = {
        "早上的会": local(2026, 11, 20, 9, 0),     # earlier today → 已过期
        "今晚交报告": local(2026, 11, 20, 23, 30),  # still today in Shanghai
        "周六早上回访": local(2026, 11, 21, 7, 0),  # Friday 23:00 UTC, but 明天 locally
        "周日拜访": local(2026, 11, 22, 12, 0),     # 本周
        "下周一例会": local(2026, 11, 23, 9, 0),    # 以后
        "随时": None,
    }
    with db.write() as s:
        for title, deadline in due.items():
            create_task(s, {"title": title, "owner_id": me, "deadline": deadline}, creator_id=me, now=clock.now(), viewer=SYSTEM)
        done = create_task(s, {"title": "已完成的旧任务", "owner_id": me, "deadline": local(2026, 11, 19, 9, 0),
                               "status": "done"}, creator_id=me, now=clock.now(), viewer=SYSTEM)
        assert done.finished_at is not None and done.progress == 100
    f = TaskFilter(user_id=me)
    cols = _columns(db, f, "date", clock.now())
    assert cols == {"overdue": ["早上的会"], "today": ["今晚交报告"], "tomorrow": ["周六早上回访"],
                    "this_week": ["周日拜访"], "later": ["下周一例会"], "none": ["随时"]}

    clock.set(local(2026, 11, 21, 0, 30))  # Saturday 00:30 local = Friday 16:30 UTC
    cols = _columns(db, f, "date", clock.now())
    assert sorted(cols["overdue"]) == ["今晚交报告", "早上的会"]
    assert cols["today"] == ["周六早上回访"]
    assert cols["tomorrow"] == ["周日拜访"]
    assert cols["this_week"] == []  # Saturday: nothing of this week is left after 明天
    assert cols["later"] == ["下周一例会"]


def test_drag_and_drop_between_status_columns_and_reorder(db, clock, people):
    me = people.user("sales1")
    with db.write() as s:
        ids = [create_task(s, {"title": t, "owner_id": me}, creator_id=me, now=clock.now(), viewer=SYSTEM).id
               for t in ("A", "B", "C", "D")]
    f = TaskFilter(user_id=me)
    # Newest on top of 待办.
    assert _columns(db, f, "status", clock.now())["todo"] == ["D", "C", "B", "A"]
    with db.write() as s:
        move_task(s, ids[0], "status", "doing", 0, now=clock.now(), tz=TZ, viewer=SYSTEM)
        move_task(s, ids[1], "status", "doing", 0, now=clock.now(), tz=TZ, viewer=SYSTEM)   # B above A
        move_task(s, ids[2], "status", "doing", 1, now=clock.now(), tz=TZ, viewer=SYSTEM)   # C between B and A
        move_task(s, ids[3], "status", "doing", 99, now=clock.now(), tz=TZ, viewer=SYSTEM)  # D to the bottom
    cols = _columns(db, f, "status", clock.now())
    assert cols["todo"] == [] and cols["doing"] == ["B", "C", "A", "D"]
    with db.write() as s:
        moved = move_task(s, ids[3], "status", "done", 0, now=clock.now(), tz=TZ, viewer=SYSTEM)
        assert moved.status == "done" and moved.progress == 100 and moved.finished_at is not None
        back = move_task(s, ids[3], "status", "todo", 0, now=clock.now(), tz=TZ, viewer=SYSTEM)
        assert back.finished_at is None
        # Reorder within the same column.
        move_task(s, ids[0], "status", "doing", 0, now=clock.now(), tz=TZ, viewer=SYSTEM)
    assert _columns(db, f, "status", clock.now())["doing"] == ["A", "B", "C"]
    with db.write() as s:
        move_task(s, ids[2], "priority", "urgent", 0, now=clock.now(), tz=TZ, viewer=SYSTEM)
    assert _columns(db, f, "priority", clock.now())["urgent"] == ["C"]
    with db.write() as s, pytest.raises(CrmError):
        move_task(s, ids[2], "status", "nonsense", 0, now=clock.now(), tz=TZ, viewer=SYSTEM)


def test_drag_into_date_columns_sets_the_deadline(db, clock, people):
    me = people.user("sales1")
    with db.write() as s:
        task = create_task(s, {"title": "回电", "owner_id": me, "deadline": local(2026, 11, 20, 15, 0)},
                           creator_id=me, now=clock.now(), viewer=SYSTEM)
        moved = move_task(s, task.id, "date", "tomorrow", 0, now=clock.now(), tz=TZ, viewer=SYSTEM)
        assert as_utc(moved.deadline) == as_utc(local(2026, 11, 21, 15, 0))  # same time of day, next day
        moved = move_task(s, task.id, "date", "none", 0, now=clock.now(), tz=TZ, viewer=SYSTEM)
        assert moved.deadline is None
        moved = move_task(s, task.id, "date", "today", 0, now=clock.now(), tz=TZ, viewer=SYSTEM)
        assert as_utc(moved.deadline) == as_utc(local(2026, 11, 20, 23, 59, 59))
        with pytest.raises(CrmError, match="已过期"):
            move_task(s, task.id, "date", "overdue", 0, now=clock.now(), tz=TZ, viewer=SYSTEM)


def test_follow_up_tasks_for_assignments(db, clock, people):
    me, boss = people.user("sales1"), people.user("boss")
    c1, c2 = people.customer("王五", owner_id=me), people.customer("赵六", owner_id=me)  # allocated to me
    with db.write() as s:
        n = create_follow_up_tasks(s, [(c1, me), (c2, me), (c1, me), (999999, me)], creator_id=boss,
                                   now=clock.now(), tz=TZ)
        assert n == 2  # the duplicate pair and the unknown customer are skipped
        assert create_follow_up_tasks(s, [(c1, me)], now=clock.now(), tz=TZ) == 0  # already open
    with db.read() as s:
        rows, total = list_tasks(s, TaskFilter(user_id=me, kind="follow_up"))
    assert total == 2
    titles = sorted(r["task"].title for r in rows)
    assert titles == ["跟进客户 王五", "跟进客户 赵六"]
    # Due by the end of the next local day (Saturday 23:59:59 Shanghai).
    assert all(as_utc(r["task"].deadline) == as_utc(local(2026, 11, 21, 23, 59, 59)) for r in rows)
    with db.read() as s:
        boss_sees_all = Viewer(boss, frozenset({"customers.view_all"}))  # the customers are not boss's own
        created, _ = list_tasks(s, TaskFilter(user_id=boss, scope="created", viewer=boss_sees_all))
        mine, _ = list_tasks(s, TaskFilter(user_id=boss, scope="mine"))
    assert len(created) == 2 and mine == []


def test_validation_names_fields_and_writes_nothing(db, clock, people):
    me = people.user("sales1")
    with db.write() as s:
        with pytest.raises(CrmError) as err:
            create_task(s, {"title": "", "owner_id": 12345, "kind": "follow_up", "progress": 120,
                            "deadline": local(2026, 11, 20, 12, 0), "remind_at": local(2026, 11, 20, 13, 0)},
                        creator_id=me, now=clock.now(), viewer=SYSTEM)
        assert set(err.value.errors) == {"title", "owner_id", "customer_id", "progress", "remind_at"}
    with db.read() as s:
        assert s.exec(select(Task)).all() == []


def test_rescheduling_rearms_reminder_and_bulk_status(db, clock, people):
    me = people.user("sales1")
    with db.write() as s:
        t = create_task(s, {"title": "T", "owner_id": me, "deadline": local(2026, 11, 21, 12, 0),
                            "remind_at": local(2026, 11, 21, 9, 0)}, creator_id=me, now=clock.now(), viewer=SYSTEM)
        t.reminded = t.overdue_notified = True
        s.add(t)
        s.flush()
        update_task(s, t.id, {"deadline": local(2026, 11, 22, 12, 0), "remind_at": local(2026, 11, 22, 9, 0)},
                    now=clock.now(), viewer=SYSTEM)
        assert not t.reminded and not t.overdue_notified
        assert set_status(s, [t.id], "done", now=clock.now(), viewer=SYSTEM) == 1
        assert set_status(s, [t.id], "done", now=clock.now(), viewer=SYSTEM) == 0
