"""获客场景配置 and 渠道管理 console: a scene created with every part of its form (mapping rows, a
tag rule, round-robin assignment, an e-mail auto response, params, credentials) shows its secret
once on a no-store page; the list gives its webhook addresses and lead counts; a refused edit
re-renders with Chinese messages and writes nothing; a saved edit is a version whose diff names
the fields; credentials are write-only; 启用/停用, 轮换密钥 and delete (refused while leads
exist); channels CRUD with the same refusals."""
from __future__ import annotations

import json
import re

import pytest
from sqlmodel import select

from crm.leads.models import Lead, LeadChannel, LeadScene, LeadSceneVersion
from crm.people import service as people
from crm.sales.models import MessageTemplate
from crm.tags.models import Tag, TagCategory
from rules.models import Strategy

_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def seed_choices(app_db) -> dict:
    """Staff, a global manual tag, an e-mail template and a channel — what a scene's rules pick.
    (Also used by the 获客计划 tests.)"""
    xiaodan = people.create_user(app_db, "xiaodan", "Sales12345", display_name="业务员小丹").id
    laowang = people.create_user(app_db, "laowang", "Sales12345", display_name="老王").id
    with app_db.write() as s:
        category = TagCategory(name="意向")
        s.add(category)
        s.flush()
        tag = Tag(category_id=category.id, name="产品A意向", kind="manual")
        channel = LeadChannel(name="抖音信息流", code="dyxxl", channel_type="PAID_SOCIAL")
        s.add_all([tag, channel, MessageTemplate(code="thanks", name="感谢咨询", channel="email", subject="感谢",
                                                 body="${name} 您好")])
        s.flush()
        return {"users": [xiaodan, laowang], "tag": tag.id, "channel": channel.id}


def token(client, path="/leads/scenes") -> str:
    return _CSRF.search(client.get(path).get_data(as_text=True)).group(1)


def tag_rule(tag_id: int, keyword: str = "产品A") -> list:
    return [{"name": "产品A意向", "rows": [{"lparen": 0, "field": "product", "op": "contains", "value": keyword,
                                            "rparen": 0, "join": "and"}], "tags": [tag_id]}]


def round_robin(user_ids: list[int]) -> dict:
    return {"rules": [{"name": "全部轮询", "rows": [], "method": "round_robin", "user_ids": user_ids}],
            "working_hours": {"enabled": False}, "outside_hours": "backup", "backup_user_ids": [],
            "notify_assignee": True}


@pytest.fixture
def admin(client, admin_user, login):
    login(client)
    return admin_user


@pytest.fixture
def choices(app_db):
    return seed_choices(app_db)


def _form(client, choices, **over) -> dict:
    form = {"csrf_token": token(client), "name": "官网咨询表单", "scene_type": "WEB_FORM", "key": "site_form",
            "default_channel_id": str(choices["channel"]), "is_enabled": "1", "rate_limit_per_minute": "120",
            "dedup_strategy": "BY_EMAIL", "params": '{"form_id": "contact"}',
            "map_source": ["submission_data.tel", ""], "map_target": ["mobile", ""], "map_label": ["", ""],
            "map_transform": ["phone", ""], "map_type": ["text", "text"], "map_default": ["", ""], "map_required": ["1", ""],
            "tagging_rules": json.dumps(tag_rule(choices["tag"])),
            "assignment_rules": json.dumps(round_robin(choices["users"])),
            "response_channel": "email", "response_template": "thanks",
            "credentials": '{"app_secret": "platform-secret-123"}'}
    form.update(over)
    return form


def _scene(app_db) -> LeadScene:
    with app_db.read() as s:
        return s.exec(select(LeadScene)).one()


def test_create_shows_the_secret_once_and_the_list_gives_webhooks(client, admin, app_db, choices):
    resp = client.post("/leads/scenes/new", data=_form(client, choices))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == "no-store"
    secret = re.search(r'data-testid="scene-secret">(whsec_[^<]+)<', html).group(1)
    assert "/webhooks/web_form?scene=site_form" in html and "X-Form-Signature" in html
    scene = _scene(app_db)
    assert (scene.key, scene.dedup_strategy, scene.rate_limit_per_minute, scene.params) == (
        "site_form", "BY_EMAIL", 120, {"form_id": "contact"})
    assert scene.mapping_rules[0]["target"] == "mobile" and scene.mapping_rules[0]["required"] is True
    assert scene.tagging_rules[0]["tags"] == [choices["tag"]]
    assert scene.assignment_rules["rules"][0]["user_ids"] == choices["users"]
    assert scene.auto_response == {"channel": "email", "template": "thanks"}
    with app_db.read() as s:
        assert s.get(Strategy, scene.strategy_id).enabled
    listing = client.get("/leads/scenes").get_data(as_text=True)
    assert "官网咨询表单" in listing and "/webhooks/web_form?scene=site_form" in listing
    assert f"/strategies/{scene.strategy_id}/edit" in listing
    edit = client.get(f"/leads/scenes/{scene.id}/edit").get_data(as_text=True)
    for page in (listing, edit):
        assert secret not in page and "platform-secret-123" not in page
    assert "已设置" in edit and "产品A意向" in edit
    assert client.get("/leads/scenes?type=PHONE_CALL").get_data(as_text=True).count("官网咨询表单") == 0


def test_refused_edit_names_each_problem_and_writes_nothing(client, admin, app_db, choices):
    client.post("/leads/scenes/new", data=_form(client, choices))
    scene = _scene(app_db)
    bad_tag = tag_rule(choices["tag"])
    bad_tag[0]["rows"][0]["field"] = "no_such_field"
    resp = client.post(f"/leads/scenes/{scene.id}/edit", data=_form(
        client, choices, name="", map_target=["Bad Name", ""], tagging_rules=json.dumps(bad_tag),
        assignment_rules=json.dumps(round_robin([])), response_template="", params="{oops", credentials=""))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400
    for message in ("场景名称不能为空", "目标字段「Bad Name」无效", "打标签规则「产品A意向」的条件有误", "请选择分配人员或团队",
                    "请选择消息模板", "场景参数不是有效的 JSON"):
        assert message in html, message
    assert "no_such_field" in html  # the posted rule comes back into the editor, not the stored one
    after = _scene(app_db)
    assert (after.version, after.name, after.params) == (1, "官网咨询表单", {"form_id": "contact"})


def test_saved_edit_is_a_version_with_a_field_diff_and_credentials_stay_write_only(client, admin, app_db, choices):
    client.post("/leads/scenes/new", data=_form(client, choices))
    scene = _scene(app_db)
    sealed = scene.credentials_sealed
    resp = client.post(f"/leads/scenes/{scene.id}/edit", data=_form(
        client, choices, tagging_rules=json.dumps(tag_rule(choices["tag"], "旗舰版")), credentials=""))
    assert resp.status_code == 302
    after = _scene(app_db)
    assert after.version == 2 and after.tagging_rules[0]["rows"][0]["value"] == "旗舰版"
    assert after.credentials_sealed == sealed  # blank keeps the stored credentials
    with app_db.read() as s:
        diff = s.exec(select(LeadSceneVersion).where(LeadSceneVersion.version == 2)).one().diff
    assert [d["field"] for d in diff] == ["tagging_rules"]
    page = client.get(f"/leads/scenes/{scene.id}/versions").get_data(as_text=True)
    assert "v2" in page and "打标签规则" in page and "旗舰版" in page and "platform-secret-123" not in page
    same = client.post(f"/leads/scenes/{scene.id}/edit", data=_form(
        client, choices, tagging_rules=json.dumps(tag_rule(choices["tag"], "旗舰版")), credentials=""), follow_redirects=True)
    assert "没有修改" in same.get_data(as_text=True) and _scene(app_db).version == 2


def test_enable_rotate_and_delete_refused_while_leads_exist(client, admin, app_db, choices):
    client.post("/leads/scenes/new", data=_form(client, choices))
    scene = _scene(app_db)
    off = client.post(f"/leads/scenes/{scene.id}/enabled", data={"csrf_token": token(client), "enabled": "0"},
                      follow_redirects=True)
    assert "已停用场景「官网咨询表单」" in off.get_data(as_text=True) and not _scene(app_db).is_enabled
    rotated = client.post(f"/leads/scenes/{scene.id}/rotate", data={"csrf_token": token(client)})
    assert rotated.headers["Cache-Control"] == "no-store" and "密钥已轮换" in rotated.get_data(as_text=True)
    assert _scene(app_db).secret_sealed != scene.secret_sealed
    with app_db.write() as s:
        s.add(Lead(scene_id=scene.id, name="张三"))
    refused = client.post(f"/leads/scenes/{scene.id}/delete", data={"csrf_token": token(client)}, follow_redirects=True)
    assert "已有 1 条线索，不能删除，可改为停用" in refused.get_data(as_text=True)
    with app_db.write() as s:
        s.delete(s.exec(select(Lead)).one())
    gone = client.post(f"/leads/scenes/{scene.id}/delete", data={"csrf_token": token(client)}, follow_redirects=True)
    assert "场景已删除" in gone.get_data(as_text=True)
    with app_db.read() as s:
        assert s.exec(select(LeadScene)).first() is None
    assert client.get(f"/leads/scenes/{scene.id}/edit").status_code == 404


def test_channels_crud_with_refusals(client, admin, app_db, choices):
    form = {"csrf_token": token(client, "/leads/channels"), "name": "百度推广", "channel_type": "PAID_SEARCH", "code": "",
            "remark": "品牌词", "is_active": "1"}
    assert client.post("/leads/channels/new", data=form).status_code == 302
    clash = client.post("/leads/channels/new", data={**form, "name": "抖音信息流", "channel_type": "NOPE"})
    assert clash.status_code == 400 and "渠道名称「抖音信息流」已存在" in clash.get_data(as_text=True)
    assert "渠道类型「NOPE」无效" in clash.get_data(as_text=True)
    with app_db.read() as s:
        baidu = s.exec(select(LeadChannel).where(LeadChannel.name == "百度推广")).one()
    assert client.post(f"/leads/channels/{baidu.id}/edit", data={**form, "name": "百度推广-品牌"}).status_code == 302
    client.post(f"/leads/channels/{baidu.id}/active", data={"csrf_token": form["csrf_token"], "active": "0"})
    with app_db.write() as s:
        assert s.get(LeadChannel, baidu.id).is_active is False
        s.add(Lead(scene_id=_any_scene(s), channel_id=baidu.id))
    page = client.get("/leads/channels").get_data(as_text=True)
    assert "百度推广-品牌" in page and f'data-testid="channel-leads-{baidu.id}">1 / 1<' in page
    refused = client.post(f"/leads/channels/{baidu.id}/delete", data={"csrf_token": form["csrf_token"]}, follow_redirects=True)
    assert "已有 1 条线索，不能删除，可改为停用" in refused.get_data(as_text=True)
    assert client.post(f"/leads/channels/{choices['channel']}/delete", data={"csrf_token": form["csrf_token"]}).status_code == 302
    assert client.get("/leads/channels/999/edit").status_code == 404


def _any_scene(s) -> int:
    scene = LeadScene(name="任意", key="any_scene", scene_type="API_IMPORT")
    s.add(scene)
    s.flush()
    return scene.id


def test_scene_pages_need_scenes_manage(client, app_db, login, admin_user):
    people.create_role(app_db, "lead_viewer", "线索只读", ["leads.view"])
    people.create_user(app_db, "viewer", "Viewer12345", roles=["lead_viewer"])
    login(client, "viewer", "Viewer12345")
    assert client.get("/leads/scenes").status_code == 403
    assert client.get("/leads/channels").status_code == 403
