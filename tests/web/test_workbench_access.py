"""工作台 permissions per template family: a 内容运营 (seed 002 §1.2) authors 朋友圈同步 tasks but
gets 403 on a 场景获客 lead pipeline strategy, an HTTP processor and the other families' tasks; a
role with strategies.* but not a family's permission cannot reach that family's strategies through
the editor or the API; existing roles keep what they could do."""
from __future__ import annotations

import re

import pytest
from sqlmodel import select

from crm.leads.models import LeadScene
from crm.people import service as people
from crm.people.models import Role
from devices.models import ContentItem, WechatAccount
from handlers.models import ProcessorDefinition
from rules.models import Strategy
from tests.web.api_helpers import Api
from tests.web.test_console_lead_scenes import _form as scene_form, seed_choices

_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def _token(client, path):
    return _CSRF.search(client.get(path).get_data(as_text=True)).group(1)


@pytest.fixture
def world(app, app_db, client, admin_user, login):
    """As an admin: an account and two 内容库 items, a lead scene (with its pipeline strategy), an
    HTTP processor and a 流量分发-free world; then a 内容运营 user."""
    login(client)
    resp = client.post("/leads/scenes/new", data=scene_form(client, seed_choices(app_db)))
    assert resp.status_code == 200
    with app_db.write() as s:
        account = WechatAccount(wxid="wx_c", nickname="内容号")
        s.add(account)
        s.add_all([ContentItem(title="早安", kind="text", text="早安"), ContentItem(title="案例", kind="text", text="案例")])
        processor = ProcessorDefinition(key="custom.crm_hook", name="回写 CRM", url="https://crm.example.com/hook")
        s.add(processor)
        s.flush()
        pipeline = s.get(Strategy, s.exec(select(LeadScene)).one().strategy_id)
        ids = {"account": account.id, "processor": processor.id, "pipeline": pipeline.id,
               "contents": [c.id for c in s.exec(select(ContentItem)).all()]}
    people.create_user(app_db, "xiaonei", "Content123", display_name="内容运营小内", roles=["content_ops"])
    return ids


def _moment_form(token, world, name="每日朋友圈"):
    return {"csrf_token": token, "name": name, "content_ids": [str(c) for c in world["contents"]],
            "account_ids": [str(world["account"])], "timing": "sop", "visibility": "all",
            "delay_min_seconds": "30", "delay_max_seconds": "180"}


def _family_less_api(app, app_db, world, client, username: str, permissions: list[str]) -> tuple[Api, int]:
    """A user whose role holds `permissions` (strategies.* but no 工作台 family) with a bearer token,
    and the id of a 朋友圈同步 task the admin (`client`) created."""
    with app_db.write() as s:
        s.add(Role(code=f"{username}_role", name=f"{username}（无工作台）", permissions=permissions))
    people.create_user(app_db, username, "Family12345", roles=[f"{username}_role"])
    token = _token(client, "/workbench/moment_sync/new")
    assert client.post("/workbench/moment_sync/new", data=_moment_form(token, world)).status_code == 302
    with app_db.read() as s:
        task = s.exec(select(Strategy).where(Strategy.template_key == "moment_sync")).one().id
    return Api(app.test_client(), people.create_token(app_db, username, "脚本")), task


def test_content_ops_author_moment_sync_but_not_pipelines_processors_or_other_families(app, app_db, world, login):
    c = app.test_client()
    assert login(c, "xiaonei", "Content123").status_code == 302
    home = c.get("/workbench").get_data(as_text=True)
    assert 'data-feature="moment_sync"' in home and 'data-feature="auto_like"' in home
    assert 'data-feature="traffic_split"' not in home and 'data-feature="group_push"' not in home

    resp = c.post("/workbench/moment_sync/new", data=_moment_form(_token(c, "/workbench/moment_sync/new"), world))
    assert resp.status_code == 302
    with app_db.read() as s:
        task = s.exec(select(Strategy).where(Strategy.template_key == "moment_sync")).one()
    token = _token(c, "/workbench/moment_sync")
    assert c.post(f"/workbench/moment_sync/{task.id}/enable", data={"csrf_token": token}).status_code == 302
    assert c.get(f"/workbench/moment_sync/{task.id}/edit").status_code == 200

    # The lead pipeline, any strategy in the raw editor, HTTP processors and other families: 403.
    assert c.get(f"/strategies/{world['pipeline']}/edit").status_code == 403
    assert c.get(f"/strategies/{task.id}/edit").status_code == 403  # the raw editor is strategies.*'s
    assert c.post("/strategies/enable", data={"csrf_token": token, "ids": [world["pipeline"]], "enabled": "0"}
                  ).status_code == 403
    assert c.get(f"/processors/{world['processor']}/edit").status_code == 403
    assert c.get("/processors").status_code == 403
    assert c.get("/workbench/traffic_split").status_code == 403
    assert c.get("/workbench/group_push/new").status_code == 403
    with app_db.read() as s:
        assert s.get(Strategy, world["pipeline"]).enabled is True


def test_a_role_without_the_family_cannot_reach_its_strategies_through_the_editor_or_api(app, app_db, world, client):
    api, task = _family_less_api(app, app_db, world, client, "bianji",
                                 ["strategies.view", "strategies.manage", "dashboard.view"])
    assert api.get(f"/api/v1/strategies/{task}").status_code == 403
    assert api.delete(f"/api/v1/strategies/{task}").status_code == 403
    assert api.post("/api/v1/strategies/enable", {"ids": [task], "enabled": True}).status_code == 403
    assert api.get(f"/api/v1/strategies/{world['pipeline']}").status_code == 200  # the general family is theirs
    admin_api = Api(app.test_client(), people.create_token(app_db, "admin", "管理脚本"))
    assert admin_api.get(f"/api/v1/strategies/{task}").status_code == 200
    with app_db.read() as s:
        assert s.get(Strategy, task) is not None


def test_existing_operator_roles_keep_the_workbench():
    from crm.people.permissions import BUILTIN_ROLES
    roles = {r.code: r.permissions for r in BUILTIN_ROLES}
    for family in ("workbench_content", "workbench_community", "workbench_traffic"):
        assert {f"{family}.view", f"{family}.manage"} <= roles["operator"]
        assert f"{family}.view" in roles["viewer"] and f"{family}.manage" not in roles["viewer"]
    assert not {"strategies.view", "processors.view", "scenes.manage"} & roles["content_ops"]


def test_dry_runs_of_a_stored_strategy_follow_its_family(app, app_db, world, client):
    api, task = _family_less_api(app, app_db, world, client, "ceshi", ["strategies.view", "strategies.test"])
    assert api.post("/api/v1/strategies/test", {"strategy_id": task, "sample": {}}).status_code == 403
    assert api.post("/api/v1/strategies/backtest", {"strategy_id": task}).status_code == 403
    assert api.post("/api/v1/strategies/test", {"strategy_id": world["pipeline"], "sample": {}}).status_code == 200


def test_a_bundle_never_overwrites_a_task_its_importer_could_not_edit(app, app_db, world, client):
    api, task = _family_less_api(app, app_db, world, client, "daoru",
                                 ["strategies.view", "strategies.manage", "dashboard.view"])
    admin_api = Api(app.test_client(), people.create_token(app_db, "admin", "导出脚本"))
    bundle = admin_api.ok("POST", "/api/v1/bundles/export", {"strategy_ids": [task]})
    with app_db.read() as s:
        before = s.get(Strategy, task)
        name, version = before.name, before.version
    [item] = bundle["strategies"]
    item["remark"] = "被配置包改写"
    report = api.ok("POST", "/api/v1/bundles/import", bundle)
    assert not [i for i in report["updated"] if i.startswith("策略")] and report["refused"], report
    assert "无权覆盖已有策略" in report["refused"][-1]["reason"] and "workbench_content.manage" in report["refused"][-1]["reason"]
    with app_db.read() as s:
        after = s.get(Strategy, task)
        assert (after.name, after.version) == (name, version) and after.remark != "被配置包改写"
    assert "策略 每日朋友圈" in admin_api.ok("POST", "/api/v1/bundles/import", bundle)["updated"]  # the admin may


def test_strategy_lists_leave_out_tasks_of_families_the_user_cannot_view(app, app_db, world, client):
    api, task = _family_less_api(app, app_db, world, client, "liebiao", ["strategies.view", "dashboard.view"])
    ids = {s["id"] for s in api.ok("GET", "/api/v1/strategies")["items"]}
    assert task not in ids and world["pipeline"] in ids
    admin_api = Api(app.test_client(), people.create_token(app_db, "admin", "列表脚本"))
    assert task in {s["id"] for s in admin_api.ok("GET", "/api/v1/strategies")["items"]}
