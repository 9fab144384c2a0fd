"""首页, 事件历史, 策略任务, 死信 and 短信发件箱 after real events went through the engine."""
from __future__ import annotations

import json
import re

import pytest

from crm.people import service as people
from engine.authoring import create_strategy
from engine.lifecycle import set_enabled
from events import apps as app_service
from events import definitions as event_service
from events.signature import sign
from rules import groups as group_service
from tests.web.test_console_strategies import BRACKETED, LATER, SMS

DEAD = {"processor": "http", "config": {"method": "GET", "url": "http://127.0.0.1:9/refused"}, "timing": {"mode": "immediate"}}


@pytest.fixture
def story(app, app_db, admin_user):
    """A strategy (sms now, log in 48 h, a refused HTTP call) and two events posted over the API."""
    rt = app.extensions["ckb"]
    with app_db.write() as s:
        event_service.import_builtin(s)
        event = event_service.get_by_code(s, "password_changed")
        group = group_service.create_group(s, "密码修改")
        strategy = create_strategy(s, {"name": "修改密码提醒", "group_id": group.id, "event_id": event.id,
                                       "conditions": BRACKETED, "steps": [SMS, LATER, DEAD]},
                                   rt.registry, rt.settings.timezone, "admin")
        set_enabled(s, [strategy.id], True)
        other = create_strategy(s, {"name": "只看成功", "group_id": group.id, "event_id": event.id,
                                    "conditions": [{"field": "status", "op": "eq", "value": "1"}], "steps": [SMS]},
                                rt.registry, rt.settings.timezone, "admin")
        set_enabled(s, [other.id], True)
        app_row, secret = app_service.create_app_record(s, rt.services.secret_box, {"name": "应用01"})
    rt.invalidate()
    client = app.test_client()
    for i, name in enumerate(["张三", "李四"]):
        body = json.dumps({"event": "password_changed", "id": f"e{i}", "data": {
            "mobile": "13812345678", "customerName": name, "status": "0"}}, ensure_ascii=False).encode()
        ts = str(int(rt.services.now().timestamp()))
        resp = client.post("/api/v1/events", data=body, headers={
            "Content-Type": "application/json", "X-App-Key": app_row.app_key, "X-Timestamp": ts,
            "X-Signature": sign(secret, ts, body)})
        assert resp.status_code == 202, resp.get_data(as_text=True)
    rt.tick()
    return {"strategy": strategy.id}


@pytest.fixture
def admin(client, login, story, csrf_token):
    login(client)
    return csrf_token(client, "/tasks")


def test_monitor_counts_today(client, admin):
    page = client.get("/monitor").get_data(as_text=True)
    assert "今日接收事件" in page and "待执行延迟任务" in page and "修改密码事件" in page
    assert re.search(r"今日接收事件</span><span class=\"stat-value\">2<", page)


def test_history_lists_today_and_expands(client, admin):
    page = client.get("/history").get_data(as_text=True)
    assert page.count('data-testid="history-row"') == 2 and "应用01" in page and "匹配成功" in page
    rid = re.findall(r"/history/(\d+)\?partial=1", page)[-1]  # the older event: 张三, who matched
    part = client.get(f"/history/{rid}?partial=1").get_data(as_text=True)
    assert "<html" not in part
    assert "修改密码提醒" in part and "发送短信" in part and "已执行" in part
    assert "未匹配的策略" in part and "只看成功" in part and "✗ 不满足" in part
    assert "13812345678" in part  # the admin may see full numbers
    assert client.get("/history/9999").status_code == 404
    filtered = client.get("/history?outcome=rejected").get_data(as_text=True)
    assert 'data-testid="history-row"' not in filtered


def test_history_masks_without_pii_permission(app, app_db, story, login):
    people.create_user(app_db, "viewer", "Viewer12345", roles=["viewer"])
    viewer = app.test_client()
    login(viewer, "viewer", "Viewer12345")
    rid = re.search(r"/history/(\d+)", viewer.get("/history").get_data(as_text=True)).group(1)
    page = viewer.get(f"/history/{rid}").get_data(as_text=True)
    assert "138****5678" in page and "13812345678" not in page
    outbox = viewer.get("/outbox").get_data(as_text=True)
    assert "138****5678" in outbox and "13812345678" not in outbox
    assert viewer.post("/tasks/cancel", data={"ids": "1"}).status_code in (400, 403)


def test_tasks_delayed_by_default_and_cancel(client, admin):
    page = client.get("/tasks").get_data(as_text=True)
    assert page.count('data-testid="task-row"') == 1 and "未执行" in page and "写日志" in page
    assert client.get("/tasks?all=1").get_data(as_text=True).count('data-testid="task-row"') == 3
    ids = re.findall(r'name="ids" value="(\d+)" form="task-bulk"', page)
    resp = client.post("/tasks/cancel", data={"csrf_token": admin, "ids": ids}, follow_redirects=True)
    assert "已取消 1 个任务" in resp.get_data(as_text=True)
    assert client.get("/tasks?status=cancelled").get_data(as_text=True).count("已取消") >= 1
    assert client.post("/tasks/cancel", data={"ids": ids}).status_code == 400  # CSRF


def test_deadletters_and_replay(client, admin):
    page = client.get("/deadletters").get_data(as_text=True)
    assert "HTTP 请求" in page and "共计 1 条记录" in page
    ids = re.findall(r'name="ids" value="(\d+)" form="dead-bulk"', page)
    resp = client.post("/deadletters/replay", data={"csrf_token": admin, "ids": ids[:1]}, follow_redirects=True)
    assert "已重放 1 个任务" in resp.get_data(as_text=True)


def test_outbox_tabs(client, admin):
    page = client.get("/outbox").get_data(as_text=True)
    assert "您的密码已修改" in page and "13812345678" in page
    assert "还没有邮件" in client.get("/outbox?tab=mail").get_data(as_text=True)
