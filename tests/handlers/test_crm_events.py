"""CRM events reach strategies: each change the customer center emits (客户创建, 打标签/移除标签,
分配, 回收, 记录跟进, 任务逾期) is accepted by its built-in definition — no field the emitter sends
is missing or mistyped — and a strategy on it runs a CRM step that finds the customer by id."""
from __future__ import annotations

from datetime import date, timedelta

from sqlmodel import select

from crm.customers import service as customers
from crm.groups import membership
from crm.sales import followups, schedule
from crm.sales.tasks import create_task
from crm.tags.apply import apply_tags, remove_tags
from crm.scope import SYSTEM
from events.builtin import CRM_EVENTS
from events.models import EventRecord
from tests.engine.conftest import engine_services, kit, runtime  # noqa: F401 - fixtures
from tests.handlers.crm_kit import group, growth, step, tag, tasks, user


def _records(svc):
    with svc.db.read() as s:
        return list(s.exec(select(EventRecord).where(EventRecord.source == "crm").order_by(EventRecord.id)))


def test_every_emitted_crm_event_matches_its_definition(kit):
    svc = kit.svc
    li = user(svc, "lisi", "李四")
    gid = group(svc, "电销组", sales=[li])
    vip = tag(svc, "VIP")
    with svc.db.write() as s:
        cid = customers.create_customer(s, {"name": "张三", "mobile": "13800138000", "email": "z@example.com"}).id
        apply_tags(s, [cid], [vip], source="manual", now=svc.now())
        remove_tags(s, [cid], [vip], source="manual", now=svc.now())
        membership.add_to_group(s, [cid], gid, None, now=svc.now())
        membership.assign(s, [cid], gid, li, None, now=svc.now())
        membership.release_to_group_pool(s, [cid], gid, None, now=svc.now())
        task = create_task(s, {"title": "回访", "owner_id": li, "customer_id": cid,
                               "deadline": svc.now() - timedelta(hours=1)}, now=svc.now() - timedelta(hours=2), viewer=SYSTEM)
        followups.record_follow_up(s, {"customer_id": cid, "content": "电话沟通", "way": "phone",
                                       "next_follow_on": date(2026, 11, 25)}, li, now=svc.now(), viewer=SYSTEM)
    with svc.db.write() as s:
        task = s.get(type(task), task.id)
        task.status = "todo"  # reopen: the follow-up closed it, the overdue job needs an open task
        s.add(task)
    schedule.mark_overdue(svc)
    records = _records(svc)
    assert {r.event_code for r in records} == {e["code"] for e in CRM_EVENTS}
    bad = [(r.event_code, r.reject_reason, r.errors) for r in records if r.status == "rejected"]
    assert bad == []


def test_a_strategy_on_tag_added_assigns_the_customer(kit):
    li = user(kit.svc, "lisi", "李四")
    group(kit.svc, "VIP组", sales=[li])
    vip = tag(kit.svc, "VIP")
    kit.strategy("crm.tag_added", [], [step("crm.assign", group="VIP组", salesperson="lisi")])
    with kit.svc.db.write() as s:
        cid = customers.create_customer(s, {"name": "赵六", "mobile": "13800138006"}).id
        apply_tags(s, [cid], [vip], source="manual", now=kit.svc.now())
    kit.rt.tick()
    [task] = tasks(kit.svc)
    assert task.status == "done" and task.note == "已把客户「赵六」分配给 李四（VIP组）", task.last_error
    assert growth(kit.svc, cid)[0].startswith(f"策略 #{task.strategy_id}：已把客户「赵六」分配给 李四")
