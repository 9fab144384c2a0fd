"""首页 = 工作台 over HTTP: a 业务员 sees only their panels and their own numbers, each number a link
to the list behind it; 选择模块 saves a person's panels and order (CSRF, Chinese refusals, unknown
keys refused); 默认工作台 sets a role's default; a failing panel does not break the page."""
from __future__ import annotations

import json
import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlmodel import select

from analytics import panels
from analytics.workbench_models import WorkbenchLayout
from crm.people.models import Role
from tests.analytics import panel_world as world


@pytest.fixture
def ids(app_db, admin_user):
    return world.seed(app_db)


def panel_keys(html: str) -> list[str]:
    return re.findall(r'data-testid="panel-([a-z_]+)"', html)


def stat(html: str, label: str) -> tuple[str, str | None]:
    """(value, link) of the stat card with this label."""
    m = re.search(r'<(a|div) class="stat-card[^"]*"(?: href="([^"]*)")?>\s*<span class="stat-label">' + label
                  + r'</span><span class="stat-value">([^<]*)<', html)
    assert m, label
    return m.group(3), (unescape(m.group(2)) if m.group(2) else None)


def test_salesperson_sees_only_their_panels_and_numbers(client, login, ids):
    login(client, "sales_a", world.PASSWORD)
    html = client.get("/").get_data(as_text=True)
    assert panel_keys(html) == ["my_info", "today_tasks", "customer_moves", "my_targets", "followup_ranking", "tag_top"]
    assert "今日接收事件" not in html and "设备与账号告警" not in html  # engine and fleet are not theirs
    assert "业务员甲" in html and "销售一部" in html and "业务员乙" not in html and "乙的私人标签" not in html
    assert stat(html, "我负责的客户")[0] == "2"
    value, link = stat(html, "新增客户")
    assert value == "1" and link.startswith("/customers?adv=")
    listed = client.get(link).get_data(as_text=True)  # the door opens exactly the customers counted
    assert "甲今日客户" in listed and "甲昨日客户" not in listed and "乙今日客户" not in listed
    assert stat(html, "待回复") == ("1", None) and stat(html, "新增好友")[0] == "3"
    assert stat(html, "分配给我的线索") == ("1", f"/leads?assignee={ids['a']}")
    assert stat(html, "今日待办") == ("1", "/worktasks?view=date") and stat(html, "已过期")[0] == "1"
    assert "回访甲今日客户" in html and "乙的任务" not in html
    assert "我排第 2 / 2 名" in html and "60.0%" in html  # 新增好友 3 of 5
    tag_link = unescape(re.search(r'<a href="([^"]+)">高意向</a>', html).group(1))
    assert json.loads(parse_qs(urlsplit(tag_link).query)["adv"][0]) == {"include_tags": [ids["hot"]]}
    tagged = client.get(tag_link).get_data(as_text=True)
    assert "甲今日客户" in tagged and "甲昨日客户" in tagged and "乙今日客户" not in tagged
    assert client.get("/monitor").status_code == 403 and client.get("/home/defaults").status_code == 403


def test_admin_home_has_engine_and_fleet_panels_with_doors(client, login, ids):
    login(client)
    html = client.get("/").get_data(as_text=True)
    assert panel_keys(html) == list(panels.PANELS)
    assert stat(html, "离线设备") == ("1", "/devices?status=offline")
    assert stat(html, "今日匹配策略") == ("0", "/monitor")
    assert stat(html, "待回复")[0] == "3" and stat(html, "新增好友")[0] == "9"
    assert 'data-chart="chart-tag_top-option"' in html and 'href="/accounts/%d"' % ids["acc_a"] in html


def test_choose_panels_save_order_refuse_and_reset(client, login, csrf_token, ids, app_db):
    login(client, "sales_a", world.PASSWORD)
    token = csrf_token(client, "/")
    resp = client.post("/home/layout", data={"csrf_token": token, "panels": ["tag_top", "my_info"]})
    assert resp.status_code == 302 and resp.headers["Location"] == "/"
    html = client.get("/").get_data(as_text=True)
    assert panel_keys(html) == ["tag_top", "my_info"] and "工作台已保存" in html and "个性化工作台" in html
    bad = client.post("/home/layout", data={"csrf_token": token, "panels": ["my_info", "nope"]}, follow_redirects=True)
    assert "工作台未保存：未知的模块：nope" in bad.get_data(as_text=True)
    forbidden = client.post("/home/layout", data={"csrf_token": token, "panels": ["engine_runs"]}, follow_redirects=True)
    assert "无权查看的模块：策略运行" in forbidden.get_data(as_text=True)
    assert client.post("/home/layout", data={"panels": ["my_info"]}).status_code == 400  # no CSRF token
    with app_db.read() as s:
        assert s.exec(select(WorkbenchLayout.panels).where(WorkbenchLayout.user_id == ids["a"])).one() == [
            "tag_top", "my_info"]
    client.post("/home/layout/reset", data={"csrf_token": token})
    html = client.get("/").get_data(as_text=True)
    assert len(panel_keys(html)) == 6 and "已恢复默认工作台" in html and "默认工作台" in html


def test_admin_sets_a_roles_default(client, login, csrf_token, ids, app_db):
    with app_db.read() as s:
        sales_role = s.exec(select(Role).where(Role.code == "sales")).one().id
    login(client)
    token = csrf_token(client, "/home/defaults")
    page = client.get("/home/defaults").get_data(as_text=True)
    assert "业务员" in page and "未设置（显示全部有权查看的模块）" in page
    refused = client.post(f"/home/defaults/{sales_role}", data={"csrf_token": token, "panels": ["engine_runs"]})
    assert refused.status_code == 422 and "角色「业务员」无权查看：策略运行" in refused.get_data(as_text=True)
    assert client.post("/home/defaults/999999", data={"csrf_token": token, "panels": ["my_info"]}).status_code == 404
    ok = client.post(f"/home/defaults/{sales_role}", data={"csrf_token": token, "panels": ["today_tasks", "my_info"]})
    assert ok.status_code == 302
    assert "今日待办" in client.get("/home/defaults").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": token})
    login(client, "sales_a", world.PASSWORD)
    assert panel_keys(client.get("/").get_data(as_text=True)) == ["today_tasks", "my_info"]


def test_a_failing_panel_shows_unavailable_and_the_rest_renders(client, login, ids, monkeypatch, caplog):
    def broken(self, session, ctx):
        raise RuntimeError("rollup table missing")

    monkeypatch.setattr(type(panels.get("tag_top")), "data", broken)
    login(client, "sales_a", world.PASSWORD)
    resp = client.get("/")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and html.count("该模块暂时无法加载") == 1
    section = html[html.index('data-testid="panel-tag_top"'):]
    assert "该模块暂时无法加载" in section[:600] and stat(html, "新增客户")[0] == "1"
    assert "workbench panel tag_top failed" in caplog.text
