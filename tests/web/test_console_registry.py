"""事件注册中心, 应用管理 and 处理器注册中心 pages: render, validate in Chinese, refuse viewers,
404 on unknown ids, CSRF enforced."""
from __future__ import annotations

import re

import pytest

from crm.people import service as people
from events import apps as app_service
from events import definitions as event_service

FIELD_ROW = {"field_name": ["mobile", "status"], "field_type": ["text", "text"],
             "field_label": ["手机号", "修改状态"], "field_required": ["1", "0"], "field_remark": ["", "值为1或者0"]}


@pytest.fixture
def admin(client, admin_user, login, csrf_token):
    login(client)
    return csrf_token(client, "/events")


@pytest.fixture
def viewer_client(app, app_db, admin_user, login):
    people.create_user(app_db, "viewer", "Viewer12345", display_name="只读", roles=["viewer"])
    client = app.test_client()
    login(client, "viewer", "Viewer12345")
    return client


def _event(app_db, code="password_changed", fields=None):
    with app_db.write() as s:
        return event_service.create_definition(s, {"name": "修改密码事件", "code": code, "fields": fields or [
            {"name": "mobile", "type": "text", "label": "手机号", "required": True}]})


def test_event_pages_render(client, admin):
    page = client.get("/events").get_data(as_text=True)
    assert "事件注册中心" in page and "导入内置事件" in page and "注册事件" in page
    page = client.get("/events/new").get_data(as_text=True)
    assert "第一步：基础数据" in page and "第二步：配置事件参数" in page and "字段类型" in page


def test_register_event_with_fields(client, admin, app_db):
    resp = client.post("/events/new", data={"csrf_token": admin, "name": "修改密码事件", "code": "pwd",
                                             "enabled": "1", **FIELD_ROW})
    assert resp.status_code == 302
    with app_db.read() as s:
        row = event_service.get_by_code(s, "pwd")
    assert [f["name"] for f in row.fields] == ["mobile", "status"] and row.fields[0]["required"]


def test_event_form_errors_are_chinese_and_nothing_is_saved(client, admin, app_db):
    resp = client.post("/events/new", data={"csrf_token": admin, "name": "", "code": "bad code",
                                             "field_name": ["1bad"], "field_type": ["text"], "field_label": [""],
                                             "field_required": ["0"], "field_remark": [""]})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert "事件名称不能为空" in page and "事件代码只能包含" in page and "第 1 个字段名「1bad」无效" in page
    with app_db.read() as s:
        assert event_service.list_definitions(s) == []


def test_import_builtin_and_batch(client, admin, app_db):
    assert client.post("/events/import-builtin", data={"csrf_token": admin}).status_code == 302
    with app_db.read() as s:
        rows = event_service.list_definitions(s)
    assert len(rows) >= 6
    ids = [str(rows[0].id), str(rows[1].id)]
    client.post("/events/batch", data={"csrf_token": admin, "action": "disable", "ids": ids})
    client.post("/events/batch", data={"csrf_token": admin, "action": "copy", "ids": ids[:1]})
    with app_db.read() as s:
        after = event_service.list_definitions(s)
    assert len(after) == len(rows) + 1
    assert not [r for r in after if str(r.id) in ids][0].enabled
    assert "-副本" in client.get("/events?q=副本").get_data(as_text=True)


def test_event_edit_and_delete(client, admin, app_db):
    row = _event(app_db)
    page = client.get(f"/events/{row.id}/edit").get_data(as_text=True)
    assert 'value="mobile"' in page
    resp = client.post(f"/events/{row.id}/edit", data={"csrf_token": admin, "name": "改名", "code": row.code,
                                                       "enabled": "1", **FIELD_ROW})
    assert resp.status_code == 302
    assert client.post(f"/events/{row.id}/delete", data={"csrf_token": admin}).status_code == 302
    assert client.get(f"/events/{row.id}/edit").status_code == 404
    assert client.post("/events/9999/delete", data={"csrf_token": admin}).status_code == 404


def test_viewer_cannot_manage(viewer_client):
    assert viewer_client.get("/events").status_code == 200
    assert viewer_client.get("/events/new").status_code == 403
    assert viewer_client.get("/apps/new").status_code == 403
    assert viewer_client.get("/processors/new").status_code == 403
    assert viewer_client.get("/processors").status_code == 200


def test_csrf_is_enforced(client, admin, app_db):
    assert client.post("/events/new", data={"name": "x", "code": "x"}).status_code == 400
    assert client.post("/apps/new", data={"name": "x"}).status_code == 400
    with app_db.read() as s:
        assert event_service.list_definitions(s) == []


def test_app_secret_shown_once_and_rotation(client, admin, app_db):
    resp = client.post("/apps/new", data={"csrf_token": admin, "name": "官网", "ip_allowlist": "10.0.0.0/8\n127.0.0.1",
                                          "enabled": "1"})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == "no-store"
    secret = re.search(r'data-testid="app-secret">([^<]+)<', page).group(1)
    assert "离开此页面后将无法再次查看" in page and "X-Signature" in page
    listing = client.get("/apps").get_data(as_text=True)
    assert "官网" in listing and secret not in listing
    with app_db.read() as s:
        app = app_service.list_apps(s)[0]
    rotated = client.post(f"/apps/{app.id}/rotate", data={"csrf_token": admin}).get_data(as_text=True)
    assert "旧密钥在 24 小时内仍然有效" in rotated and secret not in rotated
    assert "旧密钥有效至" in client.get("/apps").get_data(as_text=True)


def test_app_validation_edit_delete(client, admin, app_db):
    page = client.post("/apps/new", data={"csrf_token": admin, "name": "", "ip_allowlist": "nope"}).get_data(as_text=True)
    assert "应用名称不能为空" in page and "「nope」不是有效的 IP" in page
    client.post("/apps/new", data={"csrf_token": admin, "name": "A"})
    with app_db.read() as s:
        app = app_service.list_apps(s)[0]
    assert client.post(f"/apps/{app.id}/edit", data={"csrf_token": admin, "name": "B", "ip_allowlist": "1.2.3.4"}).status_code == 302
    assert client.post(f"/apps/{app.id}/enabled", data={"csrf_token": admin, "enabled": "0"}).status_code == 302
    assert client.post(f"/apps/{app.id}/delete", data={"csrf_token": admin}).status_code == 302
    assert client.get(f"/apps/{app.id}/edit").status_code == 404
    assert client.post("/apps/999/rotate", data={"csrf_token": admin}).status_code == 404


def test_processor_pages(client, admin):
    page = client.get("/processors").get_data(as_text=True)
    assert "发送短信" in page and "内置" in page
    page = client.get("/processors/builtin/sms").get_data(as_text=True)
    assert "短信内容" in page and "手机号" in page
    assert client.get("/processors/builtin/nope").status_code == 404
    assert client.get("/processors/999/edit").status_code == 404


def test_register_processor_with_params(client, admin, app_db):
    resp = client.post("/processors/new", data={
        "csrf_token": admin, "name": "发送感谢信邮件", "url": "http://127.0.0.1:8097/ma/send/sendEmail", "method": "GET",
        "timeout_seconds": "10", "enabled": "1", "remark": "",
        "param_name": ["email", "content"], "param_value": ["${email}", "尊敬的${user_name}"],
        "param_remark": ["收件人", "邮件内容"], "param_fixed": ["0", "1"],
        "header_name": [""], "header_value": [""], "body": ""})
    assert resp.status_code == 302
    page = client.get("/processors").get_data(as_text=True)
    assert "发送感谢信邮件" in page and "扩展" in page
    pid = re.search(r"/processors/(\d+)/edit", page).group(1)
    edit = client.get(f"/processors/{pid}/edit").get_data(as_text=True)
    assert "${email}" in edit and "尊敬的${user_name}" in edit
    assert client.post(f"/processors/{pid}/delete", data={"csrf_token": admin}).status_code == 302


def test_processor_errors_in_chinese(client, admin):
    resp = client.post("/processors/new", data={"csrf_token": admin, "name": "", "url": "ftp://x", "method": "GET",
                                                "timeout_seconds": "99"})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert "名称不能为空" in page and "请求地址必须以 http:// 或 https:// 开头" in page and "超时时间须在 1–60 秒之间" in page
