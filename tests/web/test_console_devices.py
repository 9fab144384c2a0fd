"""设备管理, 微信号管理 pages: render with seeded rows (offline devices highlighted, adds vs caps,
health chart, friends masked by 脱敏), 添加设备 shows the token once with its QR, restart/unbind,
pause/resume, friend linking, friend requests through the risk budget, auto-accept rule forms,
and 403s for users without the permissions."""
from __future__ import annotations

import base64
import json
import importlib.util
import re
from datetime import date
from html import unescape

from sqlmodel import select

from crm.customers.models import Customer
from crm.people import service as people
from devices import tokens
from devices.models import (AutoAcceptRule, BudgetCounter, Device, DeviceCommand, DeviceLog, FriendRequest,
                            WechatAccount)
from tests.devices.console.fixtures import admin, device_permissions, world  # noqa: F401 - fixtures
from tests.devices.console.seed import FRIEND_MOBILE


def test_device_list_highlights_offline_devices(client, admin, world):
    html = client.get("/devices").get_data(as_text=True)
    assert "运营一号机" in html and "备用二号机" in html and "87%" in html and "wifi" in html
    offline_row = re.search(r'<tr class="dv-offline" data-id="(\d+)"', html)
    assert offline_row and int(offline_row.group(1)) == world["offline"]
    assert html.index("备用二号机") < html.index("运营一号机")  # offline first
    assert "小美客服" in html and "阿杰" in html
    assert "备用二号机" not in client.get("/devices?status=online").get_data(as_text=True)


def test_add_device_shows_the_token_once(client, admin, app_db):
    bad = client.post("/devices/new", data={"csrf_token": admin, "name": " "})
    assert bad.status_code == 400 and "请填写设备名称" in bad.get_data(as_text=True)
    html = client.post("/devices/new", data={"csrf_token": admin, "name": "三号机", "remark": "门店"}).get_data(as_text=True)
    token = re.search(r'data-testid="device-token">([^<]+)<', html).group(1)
    payload = re.search(r'data-testid="device-qr-payload">([^<]+)<', html).group(1)
    assert tokens.parse_qr_payload(payload)[1] == token
    qr = re.search(r'<img class="dv-qr" src="data:image/svg\+xml;base64,([^"]+)"', html)
    if importlib.util.find_spec("qrcode"):  # optional: without it the payload text is the QR's stand-in
        assert qr and b"<svg" in base64.b64decode(qr.group(1)) and b"style=" not in base64.b64decode(qr.group(1))
    else:
        assert qr is None
    with app_db.read() as s:
        device = s.exec(select(Device).where(Device.name == "三号机")).one()
    assert device.token_hash == tokens.hash_token(token) and token not in device.token_prefix + device.remark
    detail = client.get(f"/devices/{device.id}").get_data(as_text=True)
    assert token not in detail and "从未连接" in detail


def test_device_detail_tabs(client, admin, world):
    base = f"/devices/{world['offline']}"
    assert "备用号" in client.get(base).get_data(as_text=True)
    assert "心跳超时，设备离线" in client.get(base + "?tab=history").get_data(as_text=True)
    assert "心跳超时" in client.get(base + "?tab=logs").get_data(as_text=True)
    assert "暂无指令" in client.get(base + "?tab=commands").get_data(as_text=True)
    assert client.get("/devices/999").status_code == 404


def test_restart_and_unbind_issue_commands(client, admin, app_db, world):
    resp = client.post(f"/devices/{world['online']}/restart", data={"csrf_token": admin}, follow_redirects=True)
    assert "已下发重启指令" in resp.get_data(as_text=True)
    client.post(f"/devices/{world['online']}/unbind", data={"csrf_token": admin})
    with app_db.read() as s:
        kinds = {c.kind: c.source for c in s.exec(select(DeviceCommand)).all()}
        assert kinds == {"restart": "manual", "unbind": "manual"}
        assert not s.get(Device, world["online"]).enabled
        assert len(s.exec(select(DeviceLog).where(DeviceLog.kind == "command")).all()) == 2
    again = client.post(f"/devices/{world['online']}/restart", data={"csrf_token": admin}, follow_redirects=True)
    assert "设备已解绑" in again.get_data(as_text=True)


def test_account_list_shows_usage_against_caps(client, admin, app_db, world):
    with app_db.write() as s:
        s.add(BudgetCounter(scope=f"account:{world['a1']}", day=date(2026, 11, 20), kind="add_friend", count=20))
        s.add(BudgetCounter(scope=f"account:{world['a1']}", day=date(2026, 11, 20), kind="send", count=42))
    html = client.get("/accounts").get_data(as_text=True)
    assert '<span class="dv-full">20 / 20</span>' in html and ">42</span>" in html
    assert "10 / 10" not in html and "0 / 10" in html  # 阿杰 (62 分)
    assert "已暂停" in html and "操作过于频繁" in html and "优秀" in html


def test_account_detail_health_chart_and_pause_resume(client, admin, app_db, world):
    html = client.get(f"/accounts/{world['a2']}").get_data(as_text=True)
    assert 'id="health-chart" data-chart="health-chart-option"' in html and "消息轰炸/被投诉" in html
    option = json.loads(unescape(re.search(r'<script type="application/json" id="health-chart-option">(.*?)</script>',
                                           html, re.S).group(1)))
    assert option["xAxis"]["data"] == ["11-18 10:00", "11-19 10:00", "11-20 10:00"]  # Beijing time, oldest first
    assert option["series"][0]["data"] == [85, 65, 62]  # the current score is the last change: no extra 现在 point
    bands = option["series"][0]["markArea"]["data"]
    assert [(b[0]["yAxis"], b[1]["yAxis"], b[0]["name"]) for b in bands][:2] == [(90, 100, "优秀"), (70, 90, "良好")]
    assert "赵六" in html and "<svg class=\"dv-chart\"" not in html
    client.post(f"/accounts/{world['a2']}/resume", data={"csrf_token": admin})
    client.post(f"/accounts/{world['a1']}/pause", data={"csrf_token": admin, "hours": "3", "reason": "换机"})
    bad = client.post(f"/accounts/{world['a3']}/pause", data={"csrf_token": admin, "hours": "0"}, follow_redirects=True)
    assert "暂停失败" in bad.get_data(as_text=True)
    users = people.create_user  # the owner picker lists staff
    owner = users(app_db, "xiaowang", "Xiaowang123", display_name="小王")
    client.post(f"/accounts/{world['a1']}/owner", data={"csrf_token": admin, "owner_id": str(owner.id)})
    with app_db.read() as s:
        a1, a2, a3 = (s.get(WechatAccount, world[k]) for k in ("a1", "a2", "a3"))
        assert (a1.status, a1.pause_reason, a1.owner_user_id) == ("paused", "换机", owner.id)
        assert a2.status == "normal" and a3.status == "normal"
    assert "小王" in client.get("/accounts").get_data(as_text=True)
    assert client.get("/accounts/999").status_code == 404


def test_friends_search_link_and_masking(client, admin, app_db, world):
    with app_db.write() as s:
        s.add(Customer(name="张三", mobile=FRIEND_MOBILE))
    html = client.get("/accounts/friends?tag=意向客户").get_data(as_text=True)
    assert "张总-上海" in html and "赵六" in html and "李四" not in html
    assert FRIEND_MOBILE in html  # an admin (不脱敏) sees full numbers
    assert "王五" in client.get("/accounts/friends?q=137000").get_data(as_text=True)
    resp = client.post("/accounts/friends/link", data={"csrf_token": admin}, follow_redirects=True)
    assert "已按手机号/微信号关联 1 位好友" in resp.get_data(as_text=True)
    linked = client.get("/accounts/friends?linked=yes").get_data(as_text=True)
    assert "张总-上海" in linked and "已关联" in linked and "王五" not in linked


def test_groups_and_members_pages(client, admin, world):
    assert "存客宝体验群" in client.get("/accounts/groups").get_data(as_text=True)
    html = client.get(f"/accounts/groups/{world['group']}").get_data(as_text=True)
    assert "张三" in html and "李四" in html and "已退群" not in html
    assert client.get("/accounts/groups/999").status_code == 404


def test_friend_requests_accept_through_the_risk_budget_and_reject(client, admin, app_db, world):
    html = client.get("/accounts/requests").get_data(as_text=True)
    assert "想了解课程" in html and "老王" not in html
    assert "规则：#1" not in html
    with app_db.read() as s:
        pending = s.exec(select(FriendRequest).where(FriendRequest.status == "pending")).one()
    resp = client.post(f"/accounts/requests/{pending.id}/accept", data={"csrf_token": admin}, follow_redirects=True)
    assert "已下发通过好友指令" in resp.get_data(as_text=True)
    with app_db.read() as s:
        command = s.exec(select(DeviceCommand)).one()
        assert (command.kind, command.payload["wxid"], command.source) == ("accept_friend", "wxid_new1", "manual")
        assert s.get(FriendRequest, pending.id).status == "accepted"
    twice = client.post(f"/accounts/requests/{pending.id}/reject", data={"csrf_token": admin}, follow_redirects=True)
    assert "该请求已处理" in twice.get_data(as_text=True)
    everything = client.get("/accounts/requests?status=all").get_data(as_text=True)
    assert "人工：系统管理员" in everything and "规则：规则#1" in everything


def test_refused_accept_leaves_the_request_pending(client, admin, app_db, world):
    with app_db.write() as s:
        s.get(WechatAccount, world["a1"]).status = "banned"
        pending = s.exec(select(FriendRequest).where(FriendRequest.status == "pending")).one()
    resp = client.post(f"/accounts/requests/{pending.id}/accept", data={"csrf_token": admin}, follow_redirects=True)
    assert "风控拒绝了通过请求" in resp.get_data(as_text=True)
    with app_db.read() as s:
        assert s.get(FriendRequest, pending.id).status == "pending"


def test_auto_accept_rule_forms(client, admin, app_db, world):
    bad = client.post("/accounts/rules/new", data={"csrf_token": admin, "name": "课程", "daily_cap": "500",
                                                   "start_time": "9点", "end_time": "21:00"})
    page = bad.get_data(as_text=True)
    assert bad.status_code == 400 and "0–100" in page and "HH:MM" in page
    ok = client.post("/accounts/rules/new", data={"csrf_token": admin, "name": "课程", "keywords": "课程\n报名",
                                                  "sources": ["search"], "daily_cap": "30", "start_time": "09:00",
                                                  "end_time": "21:00", "account_ids": [str(world["a1"])], "enabled": "1"})
    assert ok.status_code == 302
    with app_db.read() as s:
        rule = s.exec(select(AutoAcceptRule)).one()
    assert (rule.keywords, rule.account_ids, rule.enabled) == (["课程", "报名"], [world["a1"]], True)
    listing = client.get("/accounts/rules").get_data(as_text=True)
    assert "09:00–21:00" in listing and "搜索" in listing and "小美客服" in listing
    assert "课程" in client.get(f"/accounts/rules/{rule.id}/edit").get_data(as_text=True)
    client.post(f"/accounts/rules/{rule.id}/edit", data={"csrf_token": admin, "name": "课程2", "keywords": "",
                                                         "daily_cap": "0", "start_time": "22:00", "end_time": "06:00"})
    client.post(f"/accounts/rules/{rule.id}/toggle", data={"csrf_token": admin, "enabled": "1"})
    with app_db.read() as s:
        rule = s.get(AutoAcceptRule, rule.id)
        assert (rule.name, rule.daily_cap, rule.keywords, rule.enabled) == ("课程2", 0, [], True)
    client.post(f"/accounts/rules/{rule.id}/delete", data={"csrf_token": admin})
    with app_db.read() as s:
        assert s.exec(select(AutoAcceptRule)).all() == []


def test_masked_user_sees_friend_numbers_masked(app, app_db, world, login):
    people.create_role(app_db, "ops_masked", "运营（脱敏）", {"accounts.view", "devices.view"})
    people.create_user(app_db, "ops", "Ops1234567", roles=["ops_masked"])
    client = app.test_client()
    login(client, "ops", "Ops1234567")
    html = client.get("/accounts/friends").get_data(as_text=True)
    assert "张总-上海" in html and FRIEND_MOBILE not in html and "139****5678" in html


def test_permissions(app, app_db, world, login):
    people.create_role(app_db, "looker", "只看设备", {"devices.view", "accounts.view"})
    people.create_user(app_db, "looker", "Looker12345", roles=["looker"])
    client = app.test_client()
    login(client, "looker", "Looker12345")
    assert client.get("/devices").status_code == 200 and client.get("/accounts/rules").status_code == 200
    html = client.get("/devices").get_data(as_text=True)
    assert "添加设备" not in html
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', html).group(1)
    assert client.get("/devices/new").status_code == 403
    assert client.post(f"/devices/{world['online']}/restart", data={"csrf_token": token}).status_code == 403
    assert client.post(f"/accounts/{world['a1']}/pause", data={"csrf_token": token}).status_code == 403
    assert client.get("/accounts/rules/new").status_code == 403
    assert client.get("/content").status_code == 403
    people.create_user(app_db, "nobody", "Nobody12345")
    other = app.test_client()
    login(other, "nobody", "Nobody12345")
    for url in ("/devices", "/accounts", "/accounts/friends", "/accounts/requests", "/accounts/groups"):
        assert other.get(url).status_code == 403, url
