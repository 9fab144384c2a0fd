"""社群列表 and 群活监控 console pages: they render with the figures, filters apply, a 业务员 sees only
their accounts' groups (another's is 404), tags and rules save, bad rule input comes back in Chinese."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from community.activity.alerts import evaluate, save_rule
from community.activity.models import GroupAlertRule
from community.activity.rollup import roll_up
from community.groups.models import GroupTag
from crm.people import service as people
from tests.community.support import make_account, make_group, say
from tests.web.conftest import get_csrf_token


@pytest.fixture
def groups(app_db, admin_user, clock):
    sales = people.create_user(app_db, "lisi", "Passw0rd123", display_name="李四", roles=["sales"])
    with app_db.write() as s:
        mine = make_account(s, "wx_li", "李四的号", owner_user_id=sales.id)
        other = make_account(s, "wx_w", "王五的号")
        g1 = make_group(s, mine, "a@chatroom", ["x", "y"], clock.now() - timedelta(days=30), name="李四的群", owner_wxid="x")
        g2 = make_group(s, other, "b@chatroom", ["x"], clock.now() - timedelta(days=30), name="王五的群", owner_wxid="wx_w")
        say(s, mine, "a@chatroom", g1, "x", clock.now() - timedelta(minutes=5))
        save_rule(s, {"name": "死群预警", "kind": "silent", "days": 7}, None, clock.now())
    with app_db.write() as s:
        roll_up(s, clock.now(), "Asia/Shanghai")
        evaluate(s, clock.now(), "Asia/Shanghai")
    return {"g1": g1, "g2": g2}


def _post(client, path, data):
    return client.post(path, data={**data, "csrf_token": get_csrf_token(client, "/community/groups")})


def test_group_list_detail_and_tags(client, login, groups, app_db):
    login(client)
    html = client.get("/community/groups").get_data(as_text=True)
    assert "李四的群" in html and "王五的群" in html and "王五的号（本号）" in html and "昵称x" in html
    assert "wx_w" not in html  # owners by name, never a raw wxid
    assert "王五的群" not in client.get("/community/groups?min_messages=1").get_data(as_text=True)
    assert "下限不能大于上限" in client.get("/community/groups?min_messages=5&max_messages=1").get_data(as_text=True)
    detail = client.get(f"/community/groups/{groups['g1']}").get_data(as_text=True)
    assert "近30天趋势" in detail and "group-trend-option" in detail and "昵称x" in detail
    assert _post(client, f"/community/groups/{groups['g1']}/tags", {"tags": "VIP，宝妈"}).status_code == 302
    with app_db.read() as s:
        assert sorted(t.name for t in s.exec(select(GroupTag))) == ["VIP", "宝妈"]
    assert "李四的群" in client.get("/community/groups?tag=VIP").get_data(as_text=True)
    assert client.get("/community/groups/999999").status_code == 404


def test_sales_sees_only_their_groups(client, login, groups):
    login(client, "lisi", "Passw0rd123")
    html = client.get("/community/groups").get_data(as_text=True)
    assert "李四的群" in html and "王五的群" not in html
    assert client.get(f"/community/groups/{groups['g2']}").status_code == 404
    alerts = client.get("/community/alerts").get_data(as_text=True)
    assert "王五的群" not in alerts
    assert _post(client, f"/community/groups/{groups['g1']}/tags", {"tags": "x"}).status_code == 403


def test_alerts_page_and_rule_crud(client, login, groups, app_db):
    login(client)
    html = client.get("/community/alerts").get_data(as_text=True)
    assert "王五的群" in html and "预警中" in html and "连续 7 天无消息" in html
    bad = _post(client, "/community/rules/new", {"name": "", "kind": "low_speakers", "days": "0", "threshold": "200"})
    text = bad.get_data(as_text=True)
    assert bad.status_code == 400 and "请填写规则名称" in text and "统计天数应在 1 到 90 之间" in text
    ok = _post(client, "/community/rules/new", {"name": "发言少", "kind": "low_speakers", "days": "7", "threshold": "20",
                                                "enabled": "1"})
    assert ok.status_code == 302
    with app_db.read() as s:
        rule = s.exec(select(GroupAlertRule).where(GroupAlertRule.name == "发言少")).one()
    assert (rule.threshold, rule.group_id, rule.enabled) == (20, None, True)
    assert _post(client, f"/community/rules/{rule.id}", {"name": "发言少2", "kind": "low_speakers", "days": "3",
                                                         "threshold": "20", "enabled": "0"}).status_code == 302
    assert _post(client, f"/community/rules/{rule.id}/delete", {}).status_code == 302
    with app_db.read() as s:
        assert s.get(GroupAlertRule, rule.id) is None
    assert _post(client, "/community/rules/999999/delete", {}).status_code == 404
