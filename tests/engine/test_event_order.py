"""Out-of-order events: a late event never undoes a change that happened after it.

Generated add/remove-tag histories (hypothesis) are posted in shuffled order through the real
ingestion path and run by the real engine; every (customer, tag) must end as its last change
to happen says — 100 histories out of 100 — and a skipped change says why in history.
"""
from __future__ import annotations

import random
from datetime import timedelta

from hypothesis import HealthCheck, given, settings, strategies as st
from sqlmodel import select

from crm.customers.models import Customer
from crm.groups.models import GroupLink
from crm.tags.models import CustomerTag, Tag
from events.definitions import create_definition, get_by_code
from tests.engine.conftest import row
from tests.handlers.crm_kit import customer, group, step, tag, tasks, user

EVENT = "tag_toggle"
HISTORIES = 100


def _setup(kit):
    with kit.svc.db.write() as s:
        create_definition(s, {"name": "标签切换", "code": EVENT, "fields": [
            {"name": "customerId", "type": "text", "label": "客户ID", "required": True},
            {"name": "tagName", "type": "text", "label": "标签", "required": True},
            {"name": "action", "type": "text", "label": "动作", "required": True}]})
    kit.rt.invalidate()
    kit.strategy(EVENT, [row("action", "eq", "add")], [step("crm.add_tag", tags="${tagName}")], name="加")
    kit.strategy(EVENT, [row("action", "eq", "remove")], [step("crm.remove_tag", tags="${tagName}")], name="减")


histories = st.lists(st.lists(st.sampled_from(["add", "remove"]), min_size=1, max_size=6),
                     min_size=HISTORIES, max_size=HISTORIES)


@settings(max_examples=2, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(histories=histories, order_seed=st.integers(0, 2**32 - 1))
def test_shuffled_tag_histories_end_as_the_last_change_says(kit, histories, order_seed):
    # Hypothesis runs every example on the one `kit` (one database): set up once, fresh names each time.
    with kit.svc.db.read() as s:
        first_run = get_by_code(s, EVENT) is None
        run = len(s.exec(select(Customer.id)).all())
    if first_run:
        _setup(kit)
    base = kit.svc.now() - timedelta(days=1)
    pairs, events = [], []
    for n, history in enumerate(histories):
        cid = customer(kit.svc, f"客户{n}", f"139{run + n:08d}")
        name = f"T{run + n}"
        tag(kit.svc, name)
        pairs.append((cid, name, history[-1] == "add"))
        for i, action in enumerate(history):
            events.append({"event": EVENT, "id": f"{run + n}-{i}",
                           "occurred_at": (base + timedelta(seconds=i)).isoformat(),
                           "data": {"customerId": str(cid), "tagName": name, "action": action}})
    random.Random(order_seed).shuffle(events)
    for i, event in enumerate(events):
        assert kit.post(event).status == 202
        if i % 25 == 24:  # run part-way, so late events really arrive after later ones ran
            kit.rt.tick()
    kit.rt.tick()
    with kit.svc.db.read() as s:
        held = {(c, t) for c, t in s.exec(select(CustomerTag.customer_id, CustomerTag.tag_id))}
        ids = {t.name: t.id for t in s.exec(select(Tag))}
    right = sum((cid, ids[name]) in held if want else (cid, ids[name]) not in held for cid, name, want in pairs)
    assert right == HISTORIES, f"{right}/{HISTORIES} histories ended right"


def test_a_late_remove_is_skipped_and_history_says_so(kit):
    _setup(kit)
    cid = customer(kit.svc)
    tag(kit.svc, "VIP")
    now = kit.svc.now()
    kit.post({"event": EVENT, "id": "late-add", "occurred_at": (now - timedelta(minutes=1)).isoformat(),
              "data": {"customerId": str(cid), "tagName": "VIP", "action": "add"}})
    kit.rt.tick()
    kit.post({"event": EVENT, "id": "early-remove", "occurred_at": (now - timedelta(minutes=5)).isoformat(),
              "data": {"customerId": str(cid), "tagName": "VIP", "action": "remove"}})
    kit.rt.tick()
    add, remove = tasks(kit.svc)
    assert add.status == remove.status == "done"
    assert remove.note.startswith("已被更晚发生的事件取代（移除标签「VIP」")
    assert remove.result["superseded"] == ["VIP"] and remove.result["removed"] == 0
    with kit.svc.db.read() as s:
        assert [c.customer_id for c in s.exec(select(CustomerTag))] == [cid]


def test_an_operators_change_is_not_undone_by_an_earlier_event_arriving_late(kit):
    from crm.tags.apply import remove_tags

    _setup(kit)
    cid = customer(kit.svc)
    vip = tag(kit.svc, "VIP")
    with kit.svc.db.write() as s:  # the operator removes the tag now (it was never there: still a decision)
        remove_tags(s, [cid], [vip], source="manual", now=kit.svc.now())
    kit.post({"event": EVENT, "id": "old-add", "occurred_at": (kit.svc.now() - timedelta(hours=1)).isoformat(),
              "data": {"customerId": str(cid), "tagName": "VIP", "action": "add"}})
    kit.rt.tick()
    [task] = tasks(kit.svc)
    assert "已被更晚发生的事件取代" in task.note
    with kit.svc.db.read() as s:
        assert s.exec(select(CustomerTag)).first() is None


def _assign_setup(kit):
    with kit.svc.db.write() as s:
        create_definition(s, {"name": "分配", "code": "assign_to", "fields": [
            {"name": "customerId", "type": "text", "label": "客户ID", "required": True},
            {"name": "who", "type": "text", "label": "业务员", "required": True}]})
    kit.rt.invalidate()
    kit.strategy("assign_to", [], [step("crm.assign", group="电销组", salesperson="${who}", create_task=False)])


def test_a_late_assignment_does_not_undo_a_later_one(kit):
    zhang, li = user(kit.svc, "zhangsan", "张三"), user(kit.svc, "lisi", "李四")
    group(kit.svc, "电销组", sales=[zhang, li])
    cid = customer(kit.svc)
    _assign_setup(kit)
    now = kit.svc.now()
    kit.post({"event": "assign_to", "id": "later", "occurred_at": (now - timedelta(minutes=1)).isoformat(),
              "data": {"customerId": str(cid), "who": "lisi"}})
    kit.rt.tick()
    kit.post({"event": "assign_to", "id": "earlier", "occurred_at": (now - timedelta(minutes=9)).isoformat(),
              "data": {"customerId": str(cid), "who": "zhangsan"}})
    kit.rt.tick()
    first, second = tasks(kit.svc)
    assert first.status == second.status == "done"
    assert second.note.startswith("已被更晚发生的事件取代（客户「张三」分配（电销组）")
    with kit.svc.db.read() as s:
        assert s.get(Customer, cid).owner_id == li
        assert [link.assignee_id for link in s.exec(select(GroupLink).where(GroupLink.customer_id == cid))] == [li]


def test_a_late_move_does_not_undo_an_operators_later_release(kit):
    from crm.groups.membership import add_to_group, release_to_company_pool

    gid = group(kit.svc, "新客户组")
    cid = customer(kit.svc)
    kit.strategy("tag_customer", [], [step("crm.move_to_group", group="新客户组")])
    with kit.svc.db.write() as s:
        add_to_group(s, [cid], gid, None, now=kit.svc.now() - timedelta(hours=2))
        release_to_company_pool(s, [cid], None, now=kit.svc.now())  # the operator, now
    kit.post({"event": "tag_customer", "id": "old", "occurred_at": (kit.svc.now() - timedelta(hours=1)).isoformat(),
              "data": {"customerId": str(cid), "tagName": "x"}})
    kit.rt.tick()
    [task] = tasks(kit.svc)
    assert "已被更晚发生的事件取代" in task.note
    with kit.svc.db.read() as s:
        assert s.exec(select(GroupLink)).first() is None
