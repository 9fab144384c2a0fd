"""操作日志 filters (default today in Asia/Shanghai, kind, action, customer, user, group, period),
转移记录 aggregation, and the cron specs."""
from __future__ import annotations

from datetime import datetime, timedelta

from config.clock import UTC
from crm.groups import membership
from crm.groups.logs import LogFilter, list_logs, transfer_records
from crm.groups.schedule import CRON_SPECS
from crm.scope import SYSTEM, Viewer

TZ = "Asia/Shanghai"


def test_logs_default_to_today_and_filter(world, services, clock):
    a, b = world.user("a", "张三"), world.user("b", "李四")
    g1, g2 = world.group("一组", sales=[a, b]), world.group("二组", sales=[a])
    ids = world.customers(3)
    yesterday = clock.now()
    world.write(lambda s: membership.assign(s, ids, g1, a, None, now=yesterday))
    clock.advance(days=1)
    world.write(lambda s: membership.assign(s, ids[:1], g2, a, None, now=clock.now()))
    world.write(lambda s: membership.release_to_group_pool(s, ids[1:2], g1, b, now=clock.now()))
    now = clock.now()

    def rows(**kw):
        return world.read(lambda s: list_logs(s, LogFilter(**kw), now, TZ))

    today, total = rows(kind="allocation")
    assert total == 2 and {r["type"] for r in today} == {"手动分配", "delete"}
    assert [r["operator"] for r in today if r["log"].action == "delete"] == ["delete"]
    assert rows(kind="allocation", action="assign")[1] == 1
    everything = dict(since=datetime(2020, 1, 1, tzinfo=UTC), until=now + timedelta(minutes=1))
    assert rows(kind="allocation", **everything)[1] == 5
    assert rows(kind="allocation", group_id=g2, **everything)[1] == 1
    assert rows(kind="allocation", customer="客户" + str(ids[0]), **everything)[1] == 2
    assert rows(kind="allocation", user_id=b, **everything)[1] == 0
    assert rows(kind="recycle")[0][0]["action"] == "回组"
    assert rows(kind="group", **everything)[1] == 4


def test_transfer_records_are_one_line_per_transfer(world, services, clock):
    a, b = world.user("a", "小丹"), world.user("b", "李四")
    g = world.group("测试组", sales=[a, b])
    ids = world.customers(4)
    world.write(lambda s: membership.assign(s, ids, g, a, None))
    world.write(lambda s: membership.transfer(s, a, b, ids[:1], "调岗", b, now=clock.now(), viewer=SYSTEM))
    clock.advance(minutes=1)
    world.write(lambda s: membership.transfer(s, a, b, None, "离职", b, now=clock.now(), viewer=SYSTEM))
    records, total = world.read(lambda s: transfer_records(s, LogFilter(kind="transfer"), clock.now(), TZ))
    assert total == 2
    assert [(r["customers"], r["type"], r["reason"], r["from_user"], r["to_user"]) for r in records] == [
        (3, "全部转移", "离职", "小丹", "李四"), (1, "部分转移", "调岗", "小丹", "李四")]


def test_cron_specs(services, world):
    assert [(k, n, c) for k, n, c, _ in CRON_SPECS] == [
        ("group_rules", "自动分组", {"hour": 6, "minute": 0}), ("allocation", "自动分配", {"hour": 6, "minute": 15}),
        ("recycle", "客户回收", {"hour": 1, "minute": 0})]
    summaries = [fn(services) for *_, fn in CRON_SPECS]
    assert summaries == ["执行分组规则 0 条，移动客户 0 个", "执行分配规则 0 条，分配客户 0 个",
                         "执行回收规则 0 条，回收客户 0 个，重新分配 0 个"]


def test_batch_transfer_shows_in_the_allocation_log(world, services, clock):
    """分配日志 lists every change of hands: a batch transfer moves group assignments and ownership."""
    a, b = world.user("a", "小丹"), world.user("b", "李四")
    g = world.group("测试组", sales=[a, b])
    ids = world.customers(2)
    private = world.customers(1, owner_id=a)  # owned, assigned in no group
    world.write(lambda s: membership.assign(s, ids, g, a, None, now=clock.now()))
    clock.advance(minutes=1)
    world.write(lambda s: membership.transfer(s, a, b, None, "离职", b, now=clock.now(), viewer=SYSTEM))
    rows, total = world.read(lambda s: list_logs(s, LogFilter(kind="allocation", action="transfer"), clock.now(), TZ))
    assert total == 3
    assert {(r["log"].customer_id, r["log"].group_id) for r in rows} == {(ids[0], g), (ids[1], g), (private[0], None)}
    assert {(r["type"], r["from_user"], r["to_user"], r["operator"]) for r in rows} == {("批量转移", "小丹", "李四", "李四")}
    assert {r["log"].reason for r in rows} == {"离职"}
    assert world.read(lambda s: list_logs(s, LogFilter(kind="allocation", user_id=b), clock.now(), TZ))[1] == 3
    # A log reader sees lines about the customers they may see: the new owner all, the old one none.
    for viewer, count in ((Viewer(b), 3 + 2), (Viewer(a), 0)):
        seen = world.read(lambda s: list_logs(s, LogFilter(kind="allocation", viewer=viewer), clock.now(), TZ))[1]
        assert seen == count
