"""场景获客 home and 获客计划 console: the home's card per scene type with today's / 7-day leads and
running plans; the 新建获客计划 wizard creating a scene inline (secret shown once) and the plan in
one transaction, started at once; a refused wizard names each problem on its step and writes
neither scene nor plan; step 3 on an existing scene saves a new scene version; editing keeps the
scene; 启动/暂停/结束 and delete from the list; the wizard needs leads.manage and scenes.manage."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlmodel import select

from crm.leads.models import AcquisitionPlan, Lead, LeadScene
from crm.people import service as people
from devices.models import Material
from tests.web.test_console_lead_scenes import round_robin, seed_choices, tag_rule, token


@pytest.fixture
def admin(client, admin_user, login):
    login(client)
    return admin_user


@pytest.fixture
def choices(app_db):
    return seed_choices(app_db)


def _wizard(client, choices, **over) -> dict:
    form = {"csrf_token": token(client, "/leads/plans/new"), "scene_type": "SOCIAL_MEDIA_LEAD", "scene_id": "new",
            "scene_name": "抖音直播留资", "name": "双11 抖音引流", "goal_leads": "200", "goal_note": "活动期 200 条",
            "starts_on": "2026-11-01", "ends_on": "2026-11-30", "channel_ids": [str(choices["channel"])],
            "douyin_accounts": "@门店官方号\n@老板号", "phone_numbers": "ignored", "script": ["您好，看到您在直播间留言", ""],
            "dedup_strategy": "BY_PHONE", "tagging_rules": json.dumps(tag_rule(choices["tag"])),
            "assignment_rules": json.dumps(round_robin(choices["users"])), "response_channel": "", "action": "start"}
    form.update(over)
    return form


def _one(app_db, model):
    with app_db.read() as s:
        return s.exec(select(model)).one()


def test_wizard_creates_scene_and_plan_and_starts_it(client, admin, app_db, choices):
    page = client.get("/leads/plans/new?type=PHONE_CALL").get_data(as_text=True)
    for title in ("类型与基本信息", "渠道与内容", "线索处理与自动化", "总结与启动", "电话号码池", "抖音账号", "营销话术"):
        assert title in page
    assert 'value="PHONE_CALL" checked' in page
    resp = client.post("/leads/plans/new", data=_wizard(client, choices))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == "no-store"  # the new scene's secret, once
    assert 'data-testid="scene-secret">whsec_' in html and "/leads/plans?type=SOCIAL_MEDIA_LEAD" in html
    scene, plan = _one(app_db, LeadScene), _one(app_db, AcquisitionPlan)
    assert (scene.name, scene.scene_type, scene.dedup_strategy) == ("抖音直播留资", "SOCIAL_MEDIA_LEAD", "BY_PHONE")
    assert scene.tagging_rules[0]["tags"] == [choices["tag"]]
    assert scene.assignment_rules["rules"][0]["method"] == "round_robin"
    assert (plan.name, plan.status, plan.scene_id, plan.goal_leads, plan.channel_ids) == (
        "双11 抖音引流", "running", scene.id, 200, [choices["channel"]])
    assert plan.content == {"scripts": ["您好，看到您在直播间留言"], "material_ids": [],
                            "douyin_accounts": ["@门店官方号", "@老板号"]}
    listing = client.get("/leads/plans?type=SOCIAL_MEDIA_LEAD").get_data(as_text=True)
    assert "双11 抖音引流" in listing and "进行中" in listing and "0 / 200（0%）" in listing
    assert "双11 抖音引流" not in client.get("/leads/plans?type=PHONE_CALL").get_data(as_text=True)


def test_refused_wizard_names_each_problem_and_writes_nothing(client, admin, app_db, choices):
    bad_rule = tag_rule(choices["tag"])
    bad_rule[0]["rows"][0]["op"] = "gt"  # 大于 on a text field
    resp = client.post("/leads/plans/new", data=_wizard(
        client, choices, name="", scene_name="", ends_on="2026-10-01", tagging_rules=json.dumps(bad_rule),
        assignment_rules=json.dumps(round_robin([])), response_channel="email", response_template=""))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400
    for message in ("请填写计划名称", "结束日期不能早于开始日期", "场景名称不能为空", "打标签规则「产品A意向」的条件有误",
                    "请选择分配人员或团队", "请选择消息模板"):
        assert message in html, message
    assert "请选择获客场景" not in html  # the scene's own problem already says why
    with app_db.read() as s:
        assert s.exec(select(LeadScene)).first() is None and s.exec(select(AcquisitionPlan)).first() is None


def test_existing_scene_gets_a_new_version_and_edit_keeps_the_scene(client, admin, app_db, choices):
    client.post("/leads/plans/new", data=_wizard(client, choices, action="draft"))
    scene = _one(app_db, LeadScene)
    assert _one(app_db, AcquisitionPlan).status == "draft"
    resp = client.post("/leads/plans/new", data=_wizard(
        client, choices, scene_id=str(scene.id), name="抖音二期", dedup_strategy="BY_PHONE_OR_EMAIL", action="draft"))
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/leads/plans?type=SOCIAL_MEDIA_LEAD")
    with app_db.read() as s:
        assert s.get(LeadScene, scene.id).version == 2 and s.get(LeadScene, scene.id).dedup_strategy == "BY_PHONE_OR_EMAIL"
        second = s.exec(select(AcquisitionPlan).where(AcquisitionPlan.name == "抖音二期")).one()
    edit = client.get(f"/leads/plans/{second.id}/edit").get_data(as_text=True)
    assert "抖音二期" in edit and "计划创建后不能更换场景" in edit and "@门店官方号" in edit
    other = client.post("/leads/plans/new", data=_wizard(client, choices, scene_name="电话热线", scene_type="PHONE_CALL",
                                                          name="热线计划", phone_numbers="4008001234", action="draft"))
    assert other.status_code == 200
    moved = client.post(f"/leads/plans/{second.id}/edit", data=_wizard(
        client, choices, scene_id="999", scene_type="PHONE_CALL", name="抖音二期（改）", goal_leads="10", action="start"))
    assert moved.status_code == 302
    with app_db.read() as s:
        plan = s.get(AcquisitionPlan, second.id)
    assert (plan.name, plan.scene_id, plan.status, plan.goal_leads) == ("抖音二期（改）", scene.id, "running", 10)


def test_status_actions_delete_and_home_figures(client, admin, app_db, choices, clock):
    client.post("/leads/plans/new", data=_wizard(client, choices))
    plan, scene = _one(app_db, AcquisitionPlan), _one(app_db, LeadScene)
    csrf = token(client, "/leads/plans")
    paused = client.post(f"/leads/plans/{plan.id}/status", data={"csrf_token": csrf, "status": "paused",
                                                                 "back_type": "SOCIAL_MEDIA_LEAD"}, follow_redirects=True)
    assert "获客计划「双11 抖音引流」已暂停" in paused.get_data(as_text=True)
    again = client.post(f"/leads/plans/{plan.id}/status", data={"csrf_token": csrf, "status": "paused"}, follow_redirects=True)
    assert "「已暂停」的计划不能暂停" in again.get_data(as_text=True)
    client.post(f"/leads/plans/{plan.id}/status", data={"csrf_token": csrf, "status": "running"})
    with app_db.write() as s:
        s.add_all([Lead(scene_id=scene.id, plan_id=plan.id, status="ASSIGNED", created_at=clock.now()),
                   Lead(scene_id=scene.id, plan_id=plan.id, created_at=clock.now() - timedelta(days=3))])
    home = client.get("/leads/home").get_data(as_text=True)
    assert 'data-testid="today-SOCIAL_MEDIA_LEAD">1<' in home and 'data-testid="today-PHONE_CALL">0<' in home
    assert all(label in home for label in ("抖音获客", "电话获客", "订单获客", "付款码获客", "海报获客", "表单获客", "接口导入", "文件导入"))
    assert "双11 抖音引流" in home and "2 / 200（1%）" in home
    refused = client.post(f"/leads/plans/{plan.id}/delete", data={"csrf_token": csrf}, follow_redirects=True)
    assert "已有 2 条线索，不能删除" in refused.get_data(as_text=True)
    client.post(f"/leads/plans/{plan.id}/status", data={"csrf_token": csrf, "status": "ended"})
    listing = client.get("/leads/plans?status=ended").get_data(as_text=True)
    assert "双11 抖音引流" in listing and "已结束" in listing and "2 / 1 / 0" in listing
    assert client.post("/leads/plans/999/status", data={"csrf_token": csrf, "status": "running"}).status_code == 404


def test_wizard_needs_manage_permissions(client, app_db, login, admin_user):
    people.create_role(app_db, "lead_viewer", "线索只读", ["leads.view"])
    people.create_user(app_db, "viewer", "Viewer12345", roles=["lead_viewer"])
    login(client, "viewer", "Viewer12345")
    assert client.get("/leads/home").status_code == 200 and client.get("/leads/plans").status_code == 200
    assert 'data-testid="new-plan"' not in client.get("/leads/home").get_data(as_text=True)
    assert client.get("/leads/plans/new").status_code == 403


def test_materials_are_checked_against_the_content_library(client, admin, app_db, choices):
    with app_db.write() as s:
        material = Material(filename="双11海报.png", stored_path="x/poster.png", mime="image/png", size=10)
        s.add(material)
        s.flush()
        material_id = material.id
    page = client.get("/leads/plans/new").get_data(as_text=True)
    assert "双11海报.png" in page and f"/content/materials/{material_id}/preview" in page
    bad = client.post("/leads/plans/new", data=_wizard(client, choices, material_ids=[str(material_id), "999"]))
    assert bad.status_code == 400 and "素材 999 不存在或已删除" in bad.get_data(as_text=True)
    client.post("/leads/plans/new", data=_wizard(client, choices, material_ids=[str(material_id)]))
    assert _one(app_db, AcquisitionPlan).content["material_ids"] == [material_id]
