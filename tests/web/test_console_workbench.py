"""工作台 console: feature cards, 新建任务 wizard → a disabled strategy visible in 自动化策略管理,
启用/停用, edit (the wizard reopens its answers), delete, 社群推送 送达报告 and 群打卡 排行榜."""
from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import update
from sqlmodel import select

from devices.models import ChatGroup, CheckIn, DeviceCommand, WechatAccount
from rules.models import ScheduleTrigger, Strategy
from rules.templates import TEMPLATES


@pytest.fixture
def admin(client, admin_user, login):
    login(client)
    return admin_user


def _token(client, path):
    html = client.get(path).get_data(as_text=True)
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', html).group(1)


def _setup(app_db) -> tuple[int, list[int]]:
    with app_db.write() as s:
        a = WechatAccount(wxid="wx_a", nickname="运营1号")
        s.add(a)
        s.flush()
        groups = [ChatGroup(account_id=a.id, chatroom_id=f"r{i}@chatroom", name=f"客户群{i}") for i in range(3)]
        s.add_all(groups)
        s.flush()
        return a.id, [g.id for g in groups]


def test_home_and_every_feature_page_and_wizard_render(client, admin):
    html = client.get("/workbench").get_data(as_text=True)
    assert all(t.name in html for t in TEMPLATES.values())
    for key, template in TEMPLATES.items():
        assert client.get(f"/workbench/{key}").status_code == 200
        page = client.get(f"/workbench/{key}/new").get_data(as_text=True)
        assert all(step.title in page for step in template.steps), key
    assert client.get("/workbench/nope").status_code == 404


def test_wizard_creates_a_disabled_strategy_then_enable_edit_delete(client, admin, app_db):
    account, groups = _setup(app_db)
    token = _token(client, "/workbench/group_push/new")
    form = {"csrf_token": token, "name": "周末活动通知", "group_ids": [str(g) for g in groups], "text": "周六 10 点开团",
            "repeat": "weekly", "times": "10:00", "weekdays": ["6"], "interval_seconds": "5", "retries": "1"}
    bad = client.post("/workbench/group_push/new", data={**form, "text": "", "group_ids": []})
    assert bad.status_code == 400 and "请至少选择一个群" in bad.get_data(as_text=True)
    resp = client.post("/workbench/group_push/new", data=form)
    assert resp.status_code == 302
    with app_db.read() as s:
        st = s.exec(select(Strategy)).one()
        assert (st.name, st.enabled, st.template_key) == ("周末活动通知", False, "group_push")
        assert [t.cron for t in s.exec(select(ScheduleTrigger))] == ["0 10 * * sat"]
    listing = client.get("/workbench/group_push").get_data(as_text=True)
    assert "周末活动通知" in listing and "停用" in listing and "客户群0" in listing
    # Visible and editable in 自动化策略管理.
    assert "周末活动通知" in client.get("/strategies").get_data(as_text=True)
    assert client.get(f"/strategies/{st.id}/edit").status_code == 200
    client.post(f"/workbench/group_push/{st.id}/enable", data={"csrf_token": token})
    with app_db.read() as s:
        assert s.get(Strategy, st.id).enabled is True
    page = client.get(f"/workbench/group_push/{st.id}/edit").get_data(as_text=True)
    assert "周六 10 点开团" in page
    client.post(f"/workbench/group_push/{st.id}/edit", data={**form, "name": "周末通知（改）"})
    with app_db.read() as s:
        assert s.get(Strategy, st.id).name == "周末通知（改）"
        assert len(s.exec(select(Strategy)).all()) == 1
    client.post(f"/workbench/group_push/{st.id}/disable", data={"csrf_token": token})
    client.post(f"/workbench/group_push/{st.id}/delete", data={"csrf_token": token})
    with app_db.read() as s:
        assert s.exec(select(Strategy)).all() == [] and s.exec(select(ScheduleTrigger)).all() == []


def test_traffic_split_and_keyword_rows_are_read(client, admin, app_db):
    account, _ = _setup(app_db)
    token = _token(client, "/workbench/traffic_split/new")
    resp = client.post("/workbench/traffic_split/new", data={
        "csrf_token": token, "name": "分发", "source": "new_friend", "target_kind": "account", "mode": "ratio",
        "target_id": [str(account), ""], "target_weight": ["2", "1"], "target_daily_cap": ["0", "0"], "target_tag": ["", ""],
        "min_health": "50", "start_time": "09:00", "end_time": "21:00", "greeting": "你好", "welcome_text": "欢迎", "tags": "课程"})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    resp = client.post("/workbench/keyword_reply/new", data={
        "csrf_token": token, "name": "回复", "scope": "both", "cooldown_minutes": "10",
        "rule_match": ["contains", "regex"], "rule_keyword": ["价格", "地址|位置"], "rule_reply": ["看这里", "在北京"]})
    assert resp.status_code == 302
    with app_db.read() as s:
        steps = {st.template_key: st.steps for st in s.exec(select(Strategy))}
    assert steps["traffic_split"][0]["config"]["targets"] == [{"id": account, "weight": 2, "daily_cap": 0, "tag": ""}]
    assert [r["keyword"] for r in steps["keyword_reply"][0]["config"]["rules"]] == ["价格", "地址|位置"]


def test_delivery_report_and_rankings_pages(client, admin, app_db):
    account, groups = _setup(app_db)
    token = _token(client, "/workbench/group_push/new")
    client.post("/workbench/group_push/new", data={"csrf_token": token, "name": "推送", "group_ids": [str(g) for g in groups],
                                                   "text": "hi", "repeat": "daily", "times": "10:00", "retries": "0",
                                                   "interval_seconds": "3"})
    with app_db.write() as s:
        sid = s.exec(select(Strategy)).one().id
        for i, g in enumerate(groups):
            s.add(DeviceCommand(account_id=account, kind="send_text", payload={"to": f"r{i}@chatroom", "text": "hi"},
                                status="failed" if i == 1 else "succeeded", error="群已解散" if i == 1 else "",
                                idempotency_key=f"77:{sid}:0:g{g}"))
    html = client.get(f"/workbench/group_push/{sid}/report").get_data(as_text=True)
    assert "群已解散" in html and "66.7%" in html and html.count('data-state="delivered"') == 2
    client.post("/workbench/checkin/new", data={"csrf_token": token, "name": "打卡", "keyword": "打卡", "points": "1",
                                                "reply_text": ""})
    with app_db.write() as s:
        cid = s.exec(select(Strategy).where(Strategy.template_key == "checkin")).one().id
        s.add(CheckIn(group_id=groups[0], member_wxid="wx_m", nickname="小美", day=date(2026, 11, 20), points=3))
    html = client.get(f"/workbench/checkin/{cid}/rankings").get_data(as_text=True)
    assert "小美" in html and "客户群0" in html
