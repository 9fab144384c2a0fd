"""获客计划 service: validation with a Chinese message per field, content kept per scene type,
启动/暂停/结束 transitions (a plan starts only on an enabled scene, before its end date), delete
refused once leads point to it, per-plan counts and the 场景获客 home figures per scene type."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from config.clock import UTC
from crm.leads import plans
from crm.leads.errors import LeadNotFound, LeadsError
from crm.leads.models import Lead, LeadChannel, LeadScene


@pytest.fixture
def scenes(db):
    with db.write() as s:
        douyin = LeadScene(name="抖音线索", key="douyin", scene_type="SOCIAL_MEDIA_LEAD")
        phone = LeadScene(name="400 热线", key="hotline", scene_type="PHONE_CALL")
        poster = LeadScene(name="门店海报", key="poster", scene_type="QR_CODE_SCAN", is_enabled=False)
        channel = LeadChannel(name="抖音信息流", code="dy", channel_type="PAID_SOCIAL")
        s.add_all([douyin, phone, poster, channel])
        s.flush()
        return {"douyin": douyin.id, "phone": phone.id, "poster": poster.id, "channel": channel.id}


def _create(db, data, **kw):
    with db.write() as s:
        return plans.create_plan(s, data, **kw)


def _errors(db, data, **kw) -> dict:
    with pytest.raises(LeadsError) as info:
        _create(db, data, **kw)
    return info.value.errors


def test_create_keeps_the_content_of_its_scene_type(db, scenes):
    plan = _create(db, {"name": "双11 抖音引流", "scene_id": scenes["douyin"], "scene_type": "SOCIAL_MEDIA_LEAD",
                        "goal_leads": "500", "goal_note": "活动期 500 条", "starts_on": "2026-11-01", "ends_on": "2026-11-30",
                        "channel_ids": [str(scenes["channel"])],
                        "content": {"scripts": "您好，看到您在直播间留言\n\n您好，看到您在直播间留言\n欢迎到店",
                                    "material_ids": ["3"], "douyin_accounts": ["@门店官方号", " @老板号 "],
                                    "phone_numbers": ["4008001234"], "poster": {"title": "忽略"}}},
                   material_ids={3}, user_id=7)
    assert (plan.status, plan.goal_leads, plan.starts_on, plan.created_by) == ("draft", 500, date(2026, 11, 1), 7)
    assert plan.channel_ids == [scenes["channel"]]
    # Blank and repeated lines go; 电话号码池 and 海报 are not 抖音获客 content.
    assert plan.content == {"scripts": ["您好，看到您在直播间留言", "欢迎到店"], "material_ids": [3],
                            "douyin_accounts": ["@门店官方号", "@老板号"]}


def test_phone_pool_is_normalised_and_poster_checked(db, scenes):
    plan = _create(db, {"name": "热线", "scene_id": scenes["phone"], "content": {
        "phone_numbers": "400-800-1234\n（010）6543 2100\n+8613900001111"}})
    assert plan.content["phone_numbers"] == ["4008001234", "01065432100", "+8613900001111"]
    errors = _errors(db, {"name": "热线2", "scene_id": scenes["phone"], "content": {"phone_numbers": "12ab"}})
    assert errors == {"content.phone_numbers": "电话号码「12ab」格式不正确"}
    errors = _errors(db, {"name": "海报", "scene_id": scenes["poster"],
                          "content": {"poster": {"title": "x" * 101, "color": "red"}}})
    assert errors == {"content.poster.title": "海报标题不能超过 100 个字", "content.poster.color": "海报主色应为 #RRGGBB 格式"}


def test_every_bad_field_is_named_in_chinese_and_nothing_is_written(db, scenes):
    _create(db, {"name": "已有计划", "scene_id": scenes["douyin"]})
    errors = _errors(db, {"name": "已有计划", "scene_id": scenes["phone"], "goal_leads": "-1", "starts_on": "2026-12-01",
                          "ends_on": "2026-11-01", "channel_ids": ["999", "x"],
                          "content": {"material_ids": ["5"], "scripts": ["话" * 1001]}}, material_ids={1})
    assert errors == {"name": "已有名为「已有计划」的获客计划", "goal_leads": "目标线索数应为 0 到 10000000 的整数",
                      "ends_on": "结束日期不能早于开始日期", "channel_ids": "渠道 999 不存在",
                      "content.material_ids": "素材 5 不存在或已删除", "content.scripts": "营销话术每一项不能超过 1000 个字"}
    assert _errors(db, {"name": "", "scene_id": ""}) == {"name": "请填写计划名称", "scene_id": "请选择获客场景"}
    assert _errors(db, {"name": "类型不符", "scene_id": scenes["phone"], "scene_type": "SOCIAL_MEDIA_LEAD",
                        "starts_on": "2026/11/01"}) == {
        "scene_id": "场景「400 热线」不是抖音获客类型", "starts_on": "开始日期格式不正确（应为 年-月-日）"}
    with db.read() as s:
        assert [p.name for p in plans.list_plans(s)] == ["已有计划"]


def test_start_pause_end_transitions(db, scenes):
    plan = _create(db, {"name": "抖音", "scene_id": scenes["douyin"], "ends_on": "2026-11-30"},
                   start=True, today=date(2026, 11, 20))
    assert plan.status == "running"
    with db.write() as s:
        assert plans.set_status(s, plan.id, "paused").status == "paused"
        assert plans.set_status(s, plan.id, "running", date(2026, 11, 21)).status == "running"
        assert plans.set_status(s, plan.id, "ended").status == "ended"
    with db.write() as s, pytest.raises(LeadsError, match="「已结束」的计划不能启动"):
        plans.set_status(s, plan.id, "running")
    with db.write() as s, pytest.raises(LeadsError, match="未知的计划状态"):
        plans.set_status(s, plan.id, "draft")
    late = _create(db, {"name": "过期", "scene_id": scenes["douyin"], "ends_on": "2026-11-01"})
    with db.write() as s, pytest.raises(LeadsError, match="计划已过结束日期"):
        plans.set_status(s, late.id, "running", date(2026, 11, 20))
    off = _create(db, {"name": "海报", "scene_id": scenes["poster"]})
    with db.write() as s, pytest.raises(LeadsError, match="场景「门店海报」已停用"):
        plans.set_status(s, off.id, "running")
    with db.write() as s, pytest.raises(LeadsError, match="「草稿」的计划不能暂停"):
        plans.set_status(s, off.id, "paused")
    with db.write() as s, pytest.raises(LeadNotFound):
        plans.set_status(s, 999, "running")


def test_update_keeps_the_scene_and_may_start(db, scenes):
    plan = _create(db, {"name": "抖音", "scene_id": scenes["douyin"]})
    with db.write() as s:
        updated = plans.update_plan(s, plan.id, {"name": "抖音二期", "scene_id": scenes["phone"], "goal_leads": 10,
                                                 "content": {"douyin_accounts": "@号1"}}, start=True)
    assert (updated.name, updated.scene_id, updated.status, updated.content["douyin_accounts"]) == (
        "抖音二期", scenes["douyin"], "running", ["@号1"])
    with db.write() as s:  # its own name is no clash
        assert plans.update_plan(s, plan.id, {"name": "抖音二期"}).name == "抖音二期"


def test_counts_progress_delete_and_home_summary(db, scenes, clock):
    plan = _create(db, {"name": "抖音", "scene_id": scenes["douyin"], "goal_leads": 4}, start=True)
    empty = _create(db, {"name": "电话", "scene_id": scenes["phone"]})
    now = clock.now()
    with db.write() as s:
        for status, age in (("NEW", 0), ("ASSIGNED", 0), ("CONVERTED", 2), ("PROCESSING", 3), ("CLOSED", 10)):
            s.add(Lead(scene_id=scenes["douyin"], plan_id=plan.id, status=status, created_at=now - timedelta(days=age)))
        s.add(Lead(scene_id=scenes["phone"], created_at=now - timedelta(hours=1)))
    with db.read() as s:
        counts = plans.plan_counts(s, plans.list_plans(s))
        assert counts[plan.id] == {"leads": 5, "assigned": 3, "converted": 1, "progress": 100, "conversion": 20.0}
        assert counts[empty.id] == {"leads": 0, "assigned": 0, "converted": 0, "progress": None, "conversion": 0.0}
        assert [p.name for p in plans.list_plans(s, scene_type="PHONE_CALL")] == ["电话"]
        assert [p.name for p in plans.list_plans(s, status="running")] == ["抖音"]
        today = datetime(2026, 11, 19, 16, 0, tzinfo=UTC)  # 2026-11-20 00:00 in Asia/Shanghai
        summary = plans.scene_type_summary(s, today, today - timedelta(days=6))
        assert plans.lead_counts(s, "scene", today) == {scenes["douyin"]: {"total": 5, "recent": 2},
                                                        scenes["phone"]: {"total": 1, "recent": 1}}
        assert plans.lead_counts(s, "channel", today) == {}
    assert summary["SOCIAL_MEDIA_LEAD"] == {"scenes": 1, "enabled": 1, "today": 2, "week": 4, "running": 1}
    assert summary["PHONE_CALL"] == {"scenes": 1, "enabled": 1, "today": 1, "week": 1, "running": 0}
    assert summary["QR_CODE_SCAN"] == {"scenes": 1, "enabled": 0, "today": 0, "week": 0, "running": 0}
    assert summary["FILE_IMPORT"]["scenes"] == 0
    with db.write() as s, pytest.raises(LeadsError, match="已有 5 条线索，不能删除"):
        plans.delete_plan(s, plan.id)
    with db.write() as s:
        plans.delete_plan(s, empty.id)
    with db.read() as s:
        assert [p.name for p in plans.list_plans(s)] == ["抖音"]
