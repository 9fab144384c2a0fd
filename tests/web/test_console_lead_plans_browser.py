"""Browser stories of 场景获客 (headless Chromium, no CSP violations): a marketer walks the four-step
新建获客计划 wizard for 抖音获客 — a new scene, a channel, 抖音账号 and a 话术, a tag rule (意向产品
包含 产品A → 产品A意向) and round-robin assignment between two salespeople — is sent back to step 1
when the plan name is missing (her rules kept), then 启动计划, sees the secret once and the plan
进行中 in the 抖音获客 list; and edits a scene's tag rule, which becomes version 2.
Screenshots go to /tmp/ckb_shots/leads_*.png."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlmodel import select

from crm.leads.models import AcquisitionPlan, LeadScene
from engine.lead_scenes import save_scene
from tests.web.test_console_lead_scenes import round_robin, seed_choices, tag_rule

SHOTS = Path("/tmp/ckb_shots")


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")  # a full-page shot of a scrolled page draws the sticky bars mid-page
    page.screenshot(path=str(SHOTS / f"leads_{name}.png"), full_page=True)


def _next(page) -> None:
    page.click("[data-wizard-next]")


def _add_condition(rule, field: str, op: str, value: str) -> None:
    """+ 添加条件 in a rule card, then 字段 · 操作符 · 值 of the new row."""
    rule.locator("[data-add-condition]").click()
    row = rule.locator("[data-conditions] tr").last
    row.locator("[data-col=field]").select_option(field)
    row.locator("[data-col=op]").select_option(op)
    row.locator("[data-value=one]").fill(value)


@pytest.mark.browser
def test_wizard_creates_and_starts_a_douyin_plan(page, browser_login, app_db, admin_user):
    choices = seed_choices(app_db)
    browser_login()
    page.goto("/leads/home")
    shot(page, "home")
    page.click("[data-scene-type=SOCIAL_MEDIA_LEAD] >> text=新建计划")
    page.wait_for_selector("[data-plan-wizard]")
    # 步骤一: no 抖音获客 scene yet, so the wizard offers a new one.
    assert page.locator("[data-testid=type-SOCIAL_MEDIA_LEAD] input").is_checked()
    assert page.locator("[data-scene-select]").input_value() == "new"
    page.fill("#f-scene_name", "抖音直播留资")
    page.fill("#f-goal_leads", "300")
    page.fill("#f-starts_on", "2026-11-01")
    page.fill("#f-ends_on", "2026-12-31")
    page.fill("#f-goal_note", "直播间留资 300 条")
    shot(page, "wizard_step1")
    _next(page)
    # 步骤二: channel, 抖音账号 (电话号码池 is hidden for this type), a script.
    assert page.locator("[data-for-type=PHONE_CALL]").is_hidden()
    page.check(f"input[name=channel_ids][value='{choices['channel']}']")
    page.fill("#f-douyin_accounts", "@门店官方号\n@老板号")
    page.fill("textarea[name=script]", "您好，看到您在直播间咨询了产品A，给您发一份资料")
    shot(page, "wizard_step2")
    _next(page)
    # 步骤三: a tag rule and round-robin assignment.
    page.click("[data-tag-rules] [data-add-rule]")
    rule = page.locator("[data-tag-rule]").last
    rule.locator("[data-rule-name]").fill("产品A意向")
    _add_condition(rule, "product", "contains", "产品A")
    rule.locator("[data-rule-tags]").select_option(str(choices["tag"]))
    page.click("[data-assign-rules] [data-add-rule]")
    assign = page.locator("[data-assign-rule]").last
    assign.locator("[data-rule-name]").fill("直播线索轮询")
    assign.locator("[data-rule-method]").select_option("round_robin")
    assign.locator("[data-rule-users]").select_option([str(u) for u in choices["users"]])
    page.select_option("#f-dedup_strategy", "BY_PHONE")
    shot(page, "wizard_step3")
    _next(page)
    summary = page.locator("[data-summary]").inner_text()
    assert "抖音获客" in summary and "新建：抖音直播留资" in summary and "产品A意向 → 产品A意向" in summary
    assert "直播线索轮询（轮询：业务员小丹、老王）" in summary and "（未填写）" in summary
    # The plan name was forgotten: the server sends her back to step 1, keeping step 3.
    page.click("[data-testid=plan-start]")
    page.wait_for_selector(".lead-step[data-step='1'] .field-error")
    assert page.locator(".lead-step[data-step='1']").is_visible()
    assert "请填写计划名称" in page.locator(".lead-step[data-step='1']").inner_text()
    shot(page, "wizard_error")
    page.fill("#f-name", "双11 抖音直播引流")
    page.click("[data-step-tab='3']")
    assert page.locator("[data-tag-rule] [data-value=one]").input_value() == "产品A"
    assert page.locator("[data-assign-rule] [data-rule-name]").input_value() == "直播线索轮询"
    page.click("[data-step-tab='4']")
    shot(page, "wizard_step4")
    page.click("[data-testid=plan-start]")
    page.wait_for_selector("[data-testid=scene-secret]")
    assert page.locator("[data-testid=scene-secret]").inner_text().startswith("whsec_")
    shot(page, "wizard_secret")
    page.click("text=我已保存，继续")
    page.wait_for_url("**/leads/plans?type=SOCIAL_MEDIA_LEAD")
    row = page.locator("tr", has_text="双11 抖音直播引流")
    assert "进行中" in row.inner_text() and "0 / 300（0%）" in row.inner_text()
    shot(page, "plans_douyin")
    # 编辑 reopens the wizard on the same scene with everything filled in.
    row.locator("text=编辑").click()
    page.wait_for_selector("[data-plan-wizard]")
    assert "抖音直播留资" in page.locator("[data-plan-scene-name]").inner_text()
    page.click("[data-step-tab='2']")
    assert page.locator("#f-douyin_accounts").input_value() == "@门店官方号\n@老板号"
    page.click("[data-step-tab='3']")
    assert page.locator("[data-tag-rule] [data-value=one]").input_value() == "产品A"
    assert page.locator("[data-assign-rule] [data-rule-users]").evaluate(
        "s => Array.from(s.selectedOptions).map(o => o.text)") == ["业务员小丹", "老王"]
    with app_db.read() as s:
        plan = s.exec(select(AcquisitionPlan)).one()
        scene = s.get(LeadScene, plan.scene_id)
    assert (plan.status, plan.channel_ids, plan.content["douyin_accounts"]) == ("running", [choices["channel"]],
                                                                               ["@门店官方号", "@老板号"])
    assert scene.tagging_rules == [{"name": "产品A意向", "tags": [choices["tag"]], "rows": [
        {"lparen": 0, "field": "product", "op": "contains", "value": "产品A", "rparen": 0, "join": "and"}]}]
    assert scene.assignment_rules["rules"][0]["user_ids"] == choices["users"]
    assert scene.dedup_strategy == "BY_PHONE"


@pytest.mark.browser
def test_editing_a_scene_tag_rule_makes_a_version(page, browser_login, app, app_db, admin_user):
    choices = seed_choices(app_db)
    rt = app.extensions["ckb"]
    with app_db.write() as s:
        scene, _ = save_scene(s, {"name": "官网咨询表单", "scene_type": "WEB_FORM", "tagging_rules": tag_rule(choices["tag"]),
                                  "assignment_rules": round_robin(choices["users"])},
                              registry=rt.registry, box=rt.services.secret_box, author="admin")
    browser_login()
    page.goto("/leads/scenes")
    shot(page, "scenes")
    page.click(f"[data-testid=scene-edit-{scene.id}]")
    page.wait_for_selector("[data-tag-rule]")
    rule = page.locator("[data-tag-rule]").first
    rule.locator("[data-value=one]").fill("旗舰版")
    _add_condition(rule, "value", "gte", "5000")
    shot(page, "scene_form")
    page.click("button[type=submit]:has-text('保存场景')")
    page.wait_for_url("**/leads/scenes")
    assert "（版本 2）" in page.locator(".flashes").inner_text()
    page.click("a:has-text('v2')")
    assert "打标签规则" in page.locator("[data-testid=version-2]").inner_text()
    shot(page, "scene_versions")
    with app_db.read() as s:
        rows = s.get(LeadScene, scene.id).tagging_rules[0]["rows"]
    assert [(r["field"], r["op"], r["value"]) for r in rows] == [("product", "contains", "旗舰版"), ("value", "gte", "5000")]
    assert json.dumps(rows, ensure_ascii=False).count("join") == 2


@pytest.mark.browser
def test_switching_type_offers_that_types_scene_and_loads_its_rules(page, browser_login, app, app_db, admin_user):
    choices = seed_choices(app_db)
    rt = app.extensions["ckb"]
    with app_db.write() as s:
        poster, _ = save_scene(s, {"name": "门店海报", "scene_type": "QR_CODE_SCAN", "dedup_strategy": "BY_PHONE",
                                   "tagging_rules": tag_rule(choices["tag"], "到店")},
                               registry=rt.registry, box=rt.services.secret_box, author="admin")
    browser_login()
    page.goto("/leads/plans/new?type=WEB_FORM")
    assert page.locator("[data-scene-select]").input_value() == "new"  # no 表单获客 scene yet
    page.click("[data-testid=type-QR_CODE_SCAN]")
    assert page.locator("[data-scene-select]").input_value() == str(poster.id)
    assert page.locator("[data-new-scene]").is_hidden()
    page.click("[data-step-tab='2']")
    assert page.locator("[data-for-type=QR_CODE_SCAN]").is_visible()
    assert page.locator("[data-for-type=SOCIAL_MEDIA_LEAD]").is_hidden()
    page.fill("#f-poster_title", "扫码领新人礼包")
    page.fill("#f-poster_subtitle", "门店专属福利，限时 7 天")
    assert page.locator("[data-poster-title]").inner_text() == "扫码领新人礼包"
    shot(page, "wizard_poster")
    page.click("[data-step-tab='3']")
    assert page.locator("[data-tag-rule] [data-value=one]").input_value() == "到店"
    assert page.locator("#f-dedup_strategy").input_value() == "BY_PHONE"
