"""Issue 13 workbench fixes: 流量分发's tag step refuses a missing tag at save and its 客户来源 matches
「抖音」 by name and by scene kind/channel; the first 入群欢迎语 does not @ old members a full sync
saw; 自动建群 never makes a group with one other member."""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlmodel import select

from config.clock import UTC
from crm.leads.models import LeadChannel, LeadScene
from devices.models import ChatGroup
from devices.sync import apply_members
from engine.models import StrategyTask
from engine.schedule_triggers import fire_due
from handlers.builtin.workbench_auto_group import split_members
from rules.conditions import compile_predicate, parse_conditions
from rules.models import Strategy
from rules.templates import TemplateError
from tests.engine.test_workbench_kit import Bench
from tests.handlers.crm_kit import tag

SPLIT = {"name": "新客户分发", "source": "customer", "target_kind": "staff", "mode": "ratio",
         "targets": [{"id": 1, "weight": 1}]}


@pytest.fixture
def bench(kit):
    return Bench(kit)


def test_tag_step_naming_a_missing_tag_is_refused_at_save(bench):
    with pytest.raises(TemplateError) as err:
        bench.save("traffic_split", {**SPLIT, "tags": "不存在的标签"})
    assert "标签不存在：不存在的标签" in err.value.errors["tags"] and "标签管理" in err.value.errors["tags"]
    with bench.svc.db.read() as s:
        assert s.exec(select(Strategy)).first() is None
    tag(bench.svc, "抖音客户")
    assert bench.save("traffic_split", {**SPLIT, "tags": "抖音客户"})


def _matches(bench, sid: int, source: str) -> bool:
    with bench.svc.db.read() as s:
        strategy = s.get(Strategy, sid)
    node = parse_conditions(strategy.conditions, [{"name": "source", "type": "text", "label": "客户来源"}])
    return bool(compile_predicate(node)({"source": source}, bench.svc.now()))


def test_customer_source_matches_by_contains_and_scene_kind_or_channel(bench):
    with bench.svc.db.write() as s:
        channel = LeadChannel(name="抖音信息流", code="dyxx")
        s.add(channel)
        s.flush()
        s.add_all([LeadScene(name="直播间留资", key="live", scene_type="SOCIAL_MEDIA_LEAD"),
                   LeadScene(name="官网表单", key="site", scene_type="WEB_FORM", default_channel_id=channel.id),
                   LeadScene(name="门店登记", key="shop", scene_type="WEB_FORM")])
    sid = bench.save("traffic_split", {**SPLIT, "customer_sources": "抖音"})
    assert _matches(bench, sid, "抖音直播间")  # the name says so
    assert _matches(bench, sid, "直播间留资")  # a scene of kind 抖音获客
    assert _matches(bench, sid, "官网表单")  # a scene on the channel 抖音信息流
    assert not _matches(bench, sid, "门店登记") and not _matches(bench, sid, "手工录入")


def test_first_welcome_does_not_mention_members_a_full_sync_saw(bench):
    a = bench.account("wx_owner")
    g = bench.group(a, "vip@chatroom", "VIP 群")
    with bench.svc.db.write() as s:  # the first full sync: three members already in the group
        apply_members(s, s.get(ChatGroup, g), [{"wxid": f"wx_old{i}", "nickname": f"老{i}"} for i in range(3)],
                      True, bench.svc.now(), complete=True)
    bench.save("group_welcome", {"name": "欢迎", "group_ids": [g], "text": "欢迎 {members}", "window_seconds": 30})
    bench.svc.clock.advance(seconds=5)
    with bench.svc.db.write() as s:  # then one really joins
        apply_members(s, s.get(ChatGroup, g), [{"wxid": "wx_new", "nickname": "新人"}], True, bench.svc.now())
    bench.report("device.group_member_joined", {"account_id": a, "chatroom_id": "vip@chatroom", "group_id": g,
                                                "members": [{"wxid": "wx_new", "nickname": "新人"}], "wxids": ["wx_new"]})
    bench.rt.tick()
    bench.svc.clock.advance(seconds=31)
    bench.rt.tick()
    [send] = bench.commands("send_text")
    assert send.payload["mentions"] == ["wx_new"] and send.payload["text"] == "欢迎 @新人"


def test_auto_group_split_never_leaves_one_other_member():
    assert split_members(["a", "b", "c"], 2) == ([["a", "b", "c"]], [])
    assert split_members(["a", "b", "c", "d"], 2) == ([["a", "b"], ["c", "d"]], [])
    assert split_members(["a"], 40) == ([], ["a"])
    full = [str(i) for i in range(501)]
    assert split_members(full, 500) == ([full[:500]], ["500"])


def test_auto_group_with_one_member_is_refused_with_the_reason(bench):
    a = bench.account("wx_owner")
    bench.friend(a, "wx_only")
    bench.save("auto_group", {"name": "建群", "account_id": a, "name_pattern": "交流{n}群", "member_source": "named",
                              "member_wxids": "wx_only", "members_per_group": 40, "repeat": "once",
                              "run_at": "2026-11-20 10:30"})
    bench.at(datetime(2026, 11, 20, 2, 31, tzinfo=UTC))
    fire_due(bench.rt)
    bench.rt.tick()
    assert bench.commands("create_group") == []
    with bench.svc.db.read() as s:
        task = s.exec(select(StrategyTask).where(StrategyTask.processor_key == "workbench.auto_group")).one()
    assert task.status == "dead" and "微信建群至少需要 2 位成员" in task.last_error, (task.status, task.last_error)
