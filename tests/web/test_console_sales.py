"""销售管理 console pages: 任务中心 (board views, list, task form, drag-and-drop move, 记录跟进),
客户跟进任务, 消息模板管理 (CRUD, preview, refusal of unknown variables), 站内通知管理 (draft with
attachment, send, recipient view) and 定向营销 (create, cancel, copy, history)."""
from __future__ import annotations

import io
import re

import pytest
from sqlmodel import select

from crm.customers.models import Customer
from crm.people import service as people
from crm.people.models import Notification
from crm.sales.models import FollowUp, MarketingPlan, MarketingRun, MessageTemplate, Task
from crm.sales.notice_models import Notice
from crm.tags.models import Tag, TagCategory


@pytest.fixture
def admin(client, admin_user, login, app_db):
    Notice.__table__.create(app_db.engine, checkfirst=True)  # until the central migration has it
    login(client)
    return admin_user


def _token(client, path):
    html = client.get(path).get_data(as_text=True)
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', html).group(1)


def _customer(app_db, name="王五", **kw) -> int:
    with app_db.write() as s:
        c = Customer(name=name, **kw)
        s.add(c)
        s.flush()
        return c.id


@pytest.mark.parametrize("path", ["/worktasks", "/worktasks?view=status", "/worktasks?view=priority",
                                  "/worktasks?view=list", "/worktasks?scope=created", "/worktasks/tasks/new",
                                  "/worktasks/followups", "/worktasks/followups/new", "/message-templates",
                                  "/message-templates/new", "/notices", "/notices?tab=sent", "/notices/new",
                                  "/marketing", "/marketing/new"])
def test_pages_render(client, admin, path):
    resp = client.get(path)
    assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
    assert "<html" in resp.get_data(as_text=True)


def test_task_create_move_and_follow_up(client, admin, app_db):
    cid = _customer(app_db, mobile="13800138000")
    token = _token(client, "/worktasks/tasks/new")
    resp = client.post("/worktasks/tasks/new", data={
        "csrf_token": token, "title": "回访王五", "kind": "follow_up", "customer_id": str(cid),
        "owner_id": str(admin.id), "priority": "high", "status": "todo", "progress": "0",
        "deadline": "2026-11-20T18:00", "remind_at": "", "description": ""})
    assert resp.status_code == 302
    with app_db.read() as s:
        task = s.exec(select(Task)).one()
    board = client.get("/worktasks").get_data(as_text=True)
    assert "回访王五" in board and 'data-column="today"' in board
    resp = client.post(f"/worktasks/tasks/{task.id}/move", json={"kind": "status", "column": "doing", "position": 0},
                       headers={"X-CSRFToken": token})
    assert resp.status_code == 200 and resp.get_json()["task"]["status"] == "doing"
    bad = client.post(f"/worktasks/tasks/{task.id}/move", json={"kind": "date", "column": "overdue", "position": 0},
                      headers={"X-CSRFToken": token})
    assert bad.status_code == 400 and "已过期" in bad.get_json()["error"]["message"]
    assert "回访王五" in client.get("/worktasks/followups").get_data(as_text=True)
    resp = client.post(f"/worktasks/followups/new?task_id={task.id}", data={
        "csrf_token": token, "task_id": str(task.id), "customer_id": str(cid), "way": "wechat",
        "status": "intent", "maturity": "40", "content": "微信沟通 13800138000", "next_follow_on": ""})
    assert resp.status_code == 302
    with app_db.read() as s:
        assert s.get(Task, task.id).status == "done"
        assert s.get(Customer, cid).follow_count == 1
        assert s.exec(select(FollowUp)).one().way == "wechat"
    page = client.get("/worktasks/followups").get_data(as_text=True)
    assert "微信沟通" in page
    empty = client.post("/worktasks/followups/new", data={"csrf_token": token, "customer_id": str(cid), "content": ""})
    assert empty.status_code == 400 and "请填写跟进内容" in empty.get_data(as_text=True)


def test_template_budget_is_a_named_refusal_at_save_and_preview(client, admin, app_db, login):
    _customer(app_db, name="李四", mobile="13900139000")
    token = _token(client, "/message-templates/new")
    runaway = "${% for i in range(10**9) %}x${% endfor %}${name}"
    saved = client.post("/message-templates/new", data={"csrf_token": token, "code": "t9", "name": "失控",
                                                        "channel": "sms", "body": runaway, "enabled": "1"})
    assert saved.status_code == 400 and "模板渲染超出限制" in saved.get_data(as_text=True)
    preview = client.post("/message-templates/preview", json={"channel": "sms", "body": runaway},
                          headers={"X-CSRFToken": token})
    assert preview.status_code in (400, 422) and "模板渲染超出限制" in preview.get_data(as_text=True)


def test_template_crud_preview_and_unknown_variable(app, client, admin, app_db, login):
    lisi = _customer(app_db, name="李四", mobile="13900139000")
    token = _token(client, "/message-templates/new")
    bad = client.post("/message-templates/new", data={"csrf_token": token, "code": "t1", "name": "欢迎",
                                                      "channel": "sms", "body": "您好 ${nmae}", "enabled": "1"})
    assert bad.status_code == 400 and "${nmae}" in bad.get_data(as_text=True)
    ok = client.post("/message-templates/new", data={"csrf_token": token, "code": "t1", "name": "欢迎",
                                                     "channel": "sms", "body": "您好 ${name}", "enabled": "1"})
    assert ok.status_code == 302
    preview = client.post("/message-templates/preview", json={"channel": "sms", "body": "${name} ${mobile}"},
                          headers={"X-CSRFToken": token}).get_json()
    assert preview["body"] == "李四 13900139000"  # an administrator is 不脱敏
    manager = people.create_user(app_db, "manager1", "Manager12345", roles=["manager"])
    other = app.test_client()
    login(other, "manager1", "Manager12345")
    other_token = _token(other, "/message-templates")
    # 李四 is not among the manager's customers: neither chosen by id nor picked as the newest.
    refused = other.post("/message-templates/preview", json={"channel": "sms", "body": "${name}", "customer_id": lisi},
                         headers={"X-CSRFToken": other_token})
    assert refused.status_code == 404 and "李四" not in refused.get_data(as_text=True)
    sample = other.post("/message-templates/preview", json={"channel": "sms", "body": "${name}"},
                        headers={"X-CSRFToken": other_token}).get_json()
    assert sample["body"] == "张三"
    with app_db.write() as s:
        s.get(Customer, lisi).owner_id = manager.id
    masked = other.post("/message-templates/preview", json={"channel": "sms", "body": "${name} ${mobile}"},
                        headers={"X-CSRFToken": other_token}).get_json()
    assert masked["body"] == "李四 139****9000"  # 部门经理 without 查看完整手机号: masked like any list
    with app_db.read() as s:
        tpl = s.exec(select(MessageTemplate)).one()
    assert "欢迎" in client.get("/message-templates").get_data(as_text=True)
    assert client.get(f"/message-templates/{tpl.id}").status_code == 200
    assert client.post(f"/message-templates/{tpl.id}/delete", data={"csrf_token": token}).status_code == 302


def test_notice_draft_attachment_send_and_read(client, admin, app_db):
    token = _token(client, "/notices/new")
    resp = client.post("/notices/new", data={
        "csrf_token": token, "title": "十一月目标", "body": "见附件", "users": [str(admin.id)], "action": "draft",
        "attachment": (io.BytesIO(b"hello"), "目标.txt")}, content_type="multipart/form-data")
    assert resp.status_code == 302
    with app_db.read() as s:
        notice = s.exec(select(Notice)).one()
    assert notice.attachments[0]["name"] == "目标.txt"
    resp = client.post(f"/notices/{notice.id}", data={"csrf_token": token, "title": "十一月目标", "body": "见附件",
                                                      "users": [str(admin.id)], "action": "send"})
    assert resp.status_code == 302
    with app_db.read() as s:
        note = s.exec(select(Notification)).one()
    assert note.link == f"/notices/{notice.id}/read"
    page = client.get(note.link).get_data(as_text=True)
    assert "十一月目标" in page and "目标.txt" in page
    download = client.get(f"/notices/{notice.id}/attachments/{notice.attachments[0]['id']}")
    assert download.status_code == 200 and download.data == b"hello"
    download.close()
    assert "十一月目标" in client.get("/notices?tab=sent").get_data(as_text=True)


def test_marketing_plan_create_copy_cancel_history(client, admin, app_db):
    with app_db.write() as s:
        cat = TagCategory(name="资产")
        s.add(cat)
        s.flush()
        tag = Tag(category_id=cat.id, name="VIP")
        tpl = MessageTemplate(code="m1", name="回馈", channel="sms", body="${name}您好")
        s.add_all([tag, tpl])
        s.flush()
        tag_id, tpl_id = tag.id, tpl.id
    token = _token(client, "/marketing/new")
    bad = client.post("/marketing/new", data={"csrf_token": token, "name": "VIP", "template_id": str(tpl_id),
                                              "schedule": "every_n_days", "every_days": "1", "run_time": "25:00"})
    text = bad.get_data(as_text=True)
    assert bad.status_code == 400 and "请至少选择一个目标标签" in text and "HH:MM" in text
    ok = client.post("/marketing/new", data={"csrf_token": token, "name": "VIP隔天", "include_tags": [str(tag_id)],
                                             "template_id": str(tpl_id), "schedule": "every_n_days",
                                             "every_days": "2", "run_time": "10:30", "refresh_audience": "1"})
    assert ok.status_code == 302
    with app_db.read() as s:
        plan = s.exec(select(MarketingPlan)).one()
    with app_db.write() as s:
        s.add(MarketingRun(plan_id=plan.id, audience=3, sent=1, failed=1, skipped=1,
                           detail=[{"customer_id": 7, "result": "failed", "reason": "手机号「139****9000」无效"}]))
    listing = client.get("/marketing").get_data(as_text=True)
    assert "VIP隔天" in listing and "每隔 2 天" in listing
    assert "139****9000" in client.get(f"/marketing/{plan.id}/runs").get_data(as_text=True)
    assert client.post(f"/marketing/{plan.id}/copy", data={"csrf_token": token}).status_code == 302
    assert client.post(f"/marketing/{plan.id}/cancel", data={"csrf_token": token}).status_code == 302
    with app_db.read() as s:
        plans = s.exec(select(MarketingPlan).order_by(MarketingPlan.id)).all()
    assert [p.status for p in plans] == ["cancelled", "active"] and plans[1].name == "VIP隔天（副本）"
    assert client.get(f"/marketing/{plans[1].id}").status_code == 200
