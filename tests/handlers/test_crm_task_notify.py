"""创建任务 and 通知客户负责人 through the engine: the task goes to the named owner or the
customer's salesperson with its deadline, the owner is notified with a link to the customer,
customers nobody follows are refused by name, and replaying the same step creates nothing twice."""
from __future__ import annotations

from datetime import timedelta

import pytest

from config.clock import as_utc
from crm.people.models import Notification
from crm.sales.models import Task
from handlers.errors import PermanentError
from tests.engine.conftest import engine_services, kit, runtime  # noqa: F401 - fixtures
from tests.handlers.crm_kit import MOBILE, customer, growth, rows, run_direct, step, tasks, user

TRADE = {"customerName": "张三", "mobile": MOBILE, "orderNo": "A001", "amount": 5000}


def test_create_task_for_the_customers_owner_through_the_engine(kit):
    li = user(kit.svc, "lisi", "李四")
    cid = customer(kit.svc, owner_id=li)
    kit.strategy("customer_trade", [], [step("crm.create_task", title="回访 ${customerName}（订单 ${orderNo}）",
                                             priority="high", deadline_hours=48)])
    kit.post({"event": "customer_trade", "data": TRADE})
    kit.rt.tick()
    [strategy_task] = tasks(kit.svc)
    assert strategy_task.status == "done", strategy_task.last_error
    [task] = rows(kit.svc, Task)
    assert (task.title, task.owner_id, task.customer_id, task.kind, task.priority) == (
        "回访 张三（订单 A001）", li, cid, "follow_up", "high")
    assert as_utc(task.deadline) == kit.svc.now() + timedelta(hours=48)
    assert strategy_task.note == "已为客户「张三」创建跟进任务「回访 张三（订单 A001）」"
    assert growth(kit.svc, cid) == [f"策略 #{strategy_task.strategy_id}：创建任务「回访 张三（订单 A001）」"
                                    f"（步骤 {strategy_task.idempotency_key}）"]


def test_create_task_replay_named_owner_and_refusals(kit):
    user(kit.svc, "wang", "王经理")
    cid = customer(kit.svc)
    config = {"title": "电话回访", "owner": "wang", "kind": "normal", "deadline_hours": ""}
    first = run_direct(kit, "crm.create_task", {"mobile": MOBILE}, config, "10:2:0")
    again = run_direct(kit, "crm.create_task", {"mobile": MOBILE}, config, "10:2:0")
    assert again.response["repeated"] is True
    [task] = rows(kit.svc, Task)
    assert task.id == first.response["task_id"] and task.kind == "normal" and task.deadline is None
    with pytest.raises(PermanentError, match="没有负责人，请在步骤中指定任务负责人"):
        run_direct(kit, "crm.create_task", {"customerId": cid}, {"title": "x"}, "11:2:0")
    with pytest.raises(PermanentError, match="负责人不存在：ghost"):
        run_direct(kit, "crm.create_task", {"customerId": cid}, {"title": "x", "owner": "ghost"}, "12:2:0")
    processor = kit.rt.registry.get("crm.create_task")
    assert processor.validate_config({"title": "x", "deadline_hours": "abc"}) == ["截止时间「abc」不是数字（单位：小时）"]
    assert "「任务标题」不能为空" in processor.validate_config({})


def test_notify_owner_once_with_a_link_to_the_customer(kit):
    li = user(kit.svc, "lisi", "李四")
    cid = customer(kit.svc, owner_id=li)
    kit.strategy("customer_trade", [], [step("crm.notify_owner", title="${customerName} 下单 ${amount} 元",
                                             body="订单号 ${orderNo}")])
    kit.post({"event": "customer_trade", "data": TRADE})
    kit.rt.tick()
    [strategy_task] = tasks(kit.svc)
    assert strategy_task.status == "done" and strategy_task.note == "已通知客户「张三」的负责人 李四"
    [note] = rows(kit.svc, Notification)
    assert (note.user_id, note.title, note.body, note.link) == (li, "张三 下单 5000 元", "订单号 A001", f"/customers/{cid}")
    run_direct(kit, "crm.notify_owner", TRADE, {"title": "重复"}, strategy_task.idempotency_key)
    assert len(rows(kit.svc, Notification)) == 1


def test_notify_owner_falls_back_to_assignees_and_refuses_nobody(kit):
    from crm.groups.models import CustomerGroup, GroupLink

    zhang = user(kit.svc, "zhang", "张")
    cid = customer(kit.svc)
    with pytest.raises(PermanentError, match="没有可通知的负责人"):
        run_direct(kit, "crm.notify_owner", {"customerId": cid}, {"title": "x"}, "1:1:0")
    with kit.svc.db.write() as s:
        g = CustomerGroup(name="G")
        s.add(g)
        s.flush()
        s.add(GroupLink(customer_id=cid, group_id=g.id, assignee_id=zhang))
    run_direct(kit, "crm.notify_owner", {"customerId": cid}, {"title": "x", "link": "/tasks"}, "2:1:0")
    assert [(n.user_id, n.link) for n in rows(kit.svc, Notification)] == [(zhang, "/tasks")]
    with pytest.raises(PermanentError, match="站内路径"):
        run_direct(kit, "crm.notify_owner", {"customerId": cid}, {"title": "x", "link": "https://evil"}, "3:1:0")
