"""自动化策略管理: groups, the three-step editor's JSON save with errors keyed to rows and steps,
enable/disable with the pending-task count, reorder, dry run, backtest, versions and bundles."""
from __future__ import annotations

import io
import json
import re

import pytest
from sqlmodel import select

from crm.people import service as people
from events import definitions as event_service
from rules import groups as group_service
from rules.models import Strategy


def cond(field, op, value, lparen=0, rparen=0, join="and") -> dict:
    return {"lparen": lparen, "field": field, "op": op, "value": value, "rparen": rparen, "join": join}


SMS = {"processor": "sms", "config": {"mobile": "${mobile}", "content": "您的密码已修改"}, "timing": {"mode": "immediate"}}
LATER = {"processor": "log", "config": {"message": "48 小时回访 ${customerName}", "level": "INFO"},
         "timing": {"mode": "delay", "hours": 48}}
# (status = 1 或者 customerName 开头是 张) 并且 mobile 不为空
BRACKETED = [cond("status", "eq", "1", lparen=1, join="or"), cond("customerName", "starts_with", "张", rparen=1),
             cond("mobile", "is_not_empty", None)]


@pytest.fixture
def setup(app_db):
    """The built-in events and one group; returns (event, group)."""
    with app_db.write() as s:
        event_service.import_builtin(s)
        group = group_service.create_group(s, "密码修改")
    with app_db.read() as s:
        event = event_service.get_by_code(s, "password_changed")
    return event, group


@pytest.fixture
def admin(client, admin_user, login, csrf_token, setup):
    login(client)
    token = csrf_token(client, "/strategies")

    def post_json(path, data):
        return client.post(path, json=data, headers={"X-CSRFToken": token})

    post_json.token = token
    return post_json


def strategy_body(setup, **extra) -> dict:
    event, group = setup
    return {"name": "用户修改密码提醒", "group_id": group.id, "event_id": event.id, "starts_at": "", "ends_at": "",
            "conditions": BRACKETED, "steps": [SMS, LATER], **extra}


def test_pages_render(client, admin, setup):
    page = client.get("/strategies").get_data(as_text=True)
    assert "策略组管理" in page and "密码修改" in page and "导入策略包" in page
    page = client.get(f"/strategies/new?group={setup[1].id}").get_data(as_text=True)
    for text in ("第一步：选择事件", "第二步：配置条件", "第三步：设置执行操作", "开始时间与结束时间都不填", "试运行", "回测"):
        assert text in page
    data = json.loads(re.search(r'<script type="application/json" id="editor-data">(.*?)</script>', page, re.S).group(1))
    assert any(op["key"] == "between" and op["label"] == "介于" for op in data["operators"])
    assert any(p["key"] == "sms" and p["builtin"] for p in data["processors"])


def test_save_strategy_starts_disabled_and_lists(client, admin, app_db, setup):
    resp = admin("/strategies/save", strategy_body(setup))
    assert resp.status_code == 200, resp.get_json()
    with app_db.read() as s:
        row = s.get(Strategy, resp.get_json()["id"])
    assert not row.enabled and row.conditions[0]["lparen"] == 1 and row.steps[1]["timing"]["mode"] == "delay"
    page = client.get(resp.get_json()["redirect"]).get_data(as_text=True)
    assert "用户修改密码提醒" in page and "即时生效 - 永久" in page and "已添加策略" in page


def test_save_errors_name_rows_and_steps(admin, app_db, setup):
    body = strategy_body(setup, name="", conditions=[cond("status", "eq", "1", lparen=1)],
                         steps=[{"processor": "sms", "config": {"mobile": "${nope}", "content": ""}, "timing": {"mode": "immediate"}},
                                {"processor": "log", "config": {"message": "x"}, "timing": {"mode": "delay", "hours": 0}}])
    resp = admin("/strategies/save", body)
    errors = resp.get_json()["error"]["errors"]
    assert resp.status_code == 400
    assert errors["name"] == ["策略名不能为空"]
    assert "括号" in errors["conditions"][0]
    assert "第 1 步" in errors["steps[0].config"][0] and "${nope}" in errors["steps[0].config"][0]
    assert "第 2 步" in errors["steps[1].timing"][0]
    with app_db.read() as s:
        assert s.exec(select(Strategy)).all() == []


def test_enable_disable_reports_cancelled_tasks(client, admin, app_db, setup):
    sid = admin("/strategies/save", strategy_body(setup)).get_json()["id"]
    group = setup[1].id
    assert admin("/strategies/pending-count", {"ids": [sid]}).get_json() == {"pending": 0}
    resp = client.post("/strategies/enable", data={"csrf_token": admin.token, "ids": sid, "enabled": "1", "group": group},
                       follow_redirects=True)
    assert "已启用 1 条策略" in resp.get_data(as_text=True)
    resp = client.post("/strategies/enable", data={"csrf_token": admin.token, "ids": sid, "enabled": "0", "group": group},
                       follow_redirects=True)
    assert "已禁用 1 条策略" in resp.get_data(as_text=True)


def test_groups_crud_and_reorder(client, admin, app_db, setup):
    client.post("/strategies/groups", data={"csrf_token": admin.token, "name": "生日提醒策略"})
    page = client.post("/strategies/groups", data={"csrf_token": admin.token, "name": ""}, follow_redirects=True)
    assert "策略组名称不能为空" in page.get_data(as_text=True)
    with app_db.read() as s:
        groups = group_service.list_groups(s)
    ids = [g.id for g in groups][::-1]
    assert admin("/strategies/groups/reorder", {"order": ids}).status_code == 200
    with app_db.read() as s:
        assert [g.id for g in group_service.list_groups(s)] == ids
    client.post(f"/strategies/groups/{ids[0]}/rename", data={"csrf_token": admin.token, "name": "生日组"})
    client.post(f"/strategies/groups/{ids[0]}/delete", data={"csrf_token": admin.token})
    with app_db.read() as s:
        assert [g.name for g in group_service.list_groups(s)] == ["密码修改"]
    assert client.post("/strategies/groups/999/delete", data={"csrf_token": admin.token}).status_code == 404


def test_reorder_strategies(admin, app_db, setup):
    a = admin("/strategies/save", strategy_body(setup, name="A")).get_json()["id"]
    b = admin("/strategies/save", strategy_body(setup, name="B")).get_json()["id"]
    assert admin(f"/strategies/reorder?group={setup[1].id}", {"order": [b, a]}).status_code == 200
    with app_db.read() as s:
        assert s.get(Strategy, b).position < s.get(Strategy, a).position
    assert admin("/strategies/reorder?group=999", {"order": [a]}).status_code == 400


def test_dry_run_traces_rows_and_renders_steps(admin, setup):
    sample = {"mobile": "13800000000", "customerName": "张三", "status": "0"}
    result = admin("/strategies/dry-run", {"strategy": strategy_body(setup), "sample": sample}).get_json()
    assert result["matched"] is True
    assert [t["result"] for t in result["trace"]] == [False, True, True]
    assert result["steps"][0]["rendered"]["mobile"] == "13800000000"
    # the delayed step's due time in the configured zone (the test clock is 02:00 UTC = 10:00 UTC+8)
    later = result["steps"][1]
    assert later["due_at_text"].endswith(":00") and "+00:00" not in later["due_at"]
    assert later["due_at"].endswith("+08:00") and later["due_at_text"][11:13] == later["due_at"][11:13]
    bad = admin("/strategies/dry-run", {"strategy": strategy_body(setup, conditions=[cond("nope", "eq", "1")]), "sample": sample})
    assert bad.status_code == 400 and "nope" in bad.get_json()["error"]["message"]


def test_backtest(admin, setup):
    result = admin("/strategies/backtest", {"strategy": strategy_body(setup), "since": "2026-11-01", "until": "2026-11-20"})
    assert result.status_code == 200 and result.get_json()["total"] == 0
    bad = admin("/strategies/backtest", {"strategy": strategy_body(setup), "since": "2026-11-20", "until": "2026-11-01"})
    assert bad.status_code == 400


def test_versions_diff_and_rollback(client, admin, app_db, setup):
    sid = admin("/strategies/save", strategy_body(setup)).get_json()["id"]
    assert admin("/strategies/save", strategy_body(setup, id=sid, name="改过的名字")).status_code == 200
    page = client.get(f"/strategies/{sid}/versions?compare=1").get_data(as_text=True)
    assert "版本 1 → 当前版本 2 的变化" in page and "用户修改密码提醒" in page and "改过的名字" in page
    resp = client.post(f"/strategies/{sid}/rollback", data={"csrf_token": admin.token, "version": "1"}, follow_redirects=True)
    assert "已回滚到版本 1" in resp.get_data(as_text=True)
    with app_db.read() as s:
        assert s.get(Strategy, sid).name == "用户修改密码提醒"


def test_export_and_import_bundle(client, admin, app_db, setup):
    sid = admin("/strategies/save", strategy_body(setup)).get_json()["id"]
    resp = client.get(f"/strategies/export?ids={sid}")
    assert "attachment" in resp.headers["Content-Disposition"]
    bundle = json.loads(resp.get_data())
    bundle["strategies"].append({**bundle["strategies"][0], "name": "坏策略", "event": "no_such_event"})
    page = client.post("/strategies/import", data={"csrf_token": admin.token,
                                                   "bundle": (io.BytesIO(json.dumps(bundle).encode()), "b.json")},
                       content_type="multipart/form-data").get_data(as_text=True)
    assert "导入结果" in page and "事件「no_such_event」不存在" in page and "策略 用户修改密码提醒" in page
    page = client.post("/strategies/import", data={"csrf_token": admin.token, "bundle": (io.BytesIO(b"{oops"), "b.json")},
                       content_type="multipart/form-data", follow_redirects=True).get_data(as_text=True)
    assert "文件不是有效的 JSON" in page


def test_not_found_and_delete(client, admin, setup):
    assert client.get("/strategies/999/edit").status_code == 404
    assert client.get("/strategies/999/versions").status_code == 404
    assert client.get("/strategies?group=999").status_code == 404
    assert admin("/strategies/save", strategy_body(setup, id=999)).status_code == 404
    sid = admin("/strategies/save", strategy_body(setup)).get_json()["id"]
    assert client.post(f"/strategies/{sid}/delete", data={"csrf_token": admin.token}).status_code == 302
    assert client.post(f"/strategies/{sid}/delete", data={"csrf_token": admin.token}).status_code == 404


def test_viewer_and_csrf(app, app_db, admin, client, login, setup):
    assert client.post("/strategies/save", json=strategy_body(setup)).status_code == 400  # no CSRF header
    people.create_user(app_db, "viewer", "Viewer12345", roles=["viewer"])
    viewer = app.test_client()
    login(viewer, "viewer", "Viewer12345")
    assert viewer.get("/strategies").status_code == 200
    assert viewer.get("/strategies/new").status_code == 403
    token = re.search(r'name="csrf-token" content="([^"]+)"', viewer.get("/strategies").get_data(as_text=True)).group(1)
    headers = {"X-CSRFToken": token}
    assert viewer.post("/strategies/save", json=strategy_body(setup), headers=headers).status_code == 403
    assert viewer.post("/strategies/dry-run", json={"sample": {}}, headers=headers).status_code == 403


def test_event_pickers_show_the_code_beside_a_repeated_name(client, admin, app_db, setup):
    """Two events named alike are told apart in the strategy editor's and 事件历史's pickers."""
    from events.models import EventDefinition

    with app_db.write() as s:
        s.add_all([EventDefinition(code="order.shop_a", name="门店支付"), EventDefinition(code="order.shop_b", name="门店支付")])
    page = client.get(f"/strategies/new?group={setup[1].id}").get_data(as_text=True)
    data = json.loads(re.search(r'<script type="application/json" id="editor-data">(.*?)</script>', page, re.S).group(1))
    labels = [e["label"] for e in data["events"] if e["name"] == "门店支付"]
    assert labels == ["门店支付（order.shop_a）", "门店支付（order.shop_b）"]
    resp = client.get("/static/js/pages/strategy_editor.js")
    script = resp.get_data(as_text=True)
    resp.close()  # a static file holds its file open until closed
    assert "e.label + (e.enabled" in script  # the select shows the label, not the bare name
    history = client.get("/history").get_data(as_text=True)
    assert "门店支付（order.shop_a）" in history and "门店支付（order.shop_b）" in history
