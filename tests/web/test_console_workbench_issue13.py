"""Issue 13 workbench fixes in the wizard: 流量分发 keeps its 员工 target kind (a field starting
target_ that is not a row column), and 朋友圈同步 lists the 内容库 oldest first — the order a browser
posts a multi-select in, and so the order the items are posted."""
from __future__ import annotations

import re

import pytest
from sqlmodel import select

from devices.models import ContentItem
from rules.models import Strategy
from rules.templates import WIZARD_KEY
from tests.web.test_console_workbench import _token


@pytest.fixture
def admin(client, admin_user, login):
    login(client)
    return admin_user


def test_traffic_split_keeps_the_staff_target_kind(client, admin, app_db):
    token = _token(client, "/workbench/traffic_split/new")
    resp = client.post("/workbench/traffic_split/new", data={
        "csrf_token": token, "name": "分给员工", "source": "customer", "target_kind": "staff", "mode": "ratio",
        "target_id": [str(admin.id)], "target_weight": ["1"], "target_daily_cap": ["0"], "target_tag": [""]})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    with app_db.read() as s:
        strategy = s.exec(select(Strategy)).one()
    distribute = strategy.steps[0]["config"]
    assert distribute["target_kind"] == "staff" and distribute["targets"][0]["id"] == admin.id
    assert distribute[WIZARD_KEY]["config"]["target_kind"] == "staff"
    edit = client.get(f"/workbench/traffic_split/{strategy.id}/edit").get_data(as_text=True)
    assert re.search(r'<option value="staff"\s+selected', edit)


def test_moment_sync_lists_content_oldest_first(client, admin, app_db):
    with app_db.write() as s:
        s.add_all([ContentItem(title=f"第{i}天", kind="text", text=f"内容{i}") for i in (1, 2, 3)])
    page = client.get("/workbench/moment_sync/new").get_data(as_text=True)
    select_html = page[page.index('name="content_ids"'):]
    select_html = select_html[:select_html.index("</select>")]
    assert re.findall(r">(第\d天)（", select_html) == ["第1天", "第2天", "第3天"]
