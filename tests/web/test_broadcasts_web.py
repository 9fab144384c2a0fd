"""消息群发 console and /api/v1/broadcasts: create (bad input named in Chinese), the live recipient
count, the report, cancel; a 业务员 with broadcasts.manage reaches only their accounts' friends and
sees only their own 群发 (another's is 404)."""
from __future__ import annotations

import pytest

from crm.customers.models import Customer
from crm.people import service as people
from crm.people.roles import create_role
from crm.tags.models import CustomerTag, Tag, TagCategory
from devices.models import Friend, WechatAccount
from tests.web.api_helpers import PASSWORD, Api, assert_error


@pytest.fixture
def fleet_world(app_db, admin_user):
    people.ensure_builtin_roles(app_db)
    create_role(app_db, "broadcaster", "群发业务员", ["conversations.view", "broadcasts.manage"])
    a = people.create_user(app_db, "seller_a", PASSWORD, roles=["broadcaster"])
    b = people.create_user(app_db, "seller_b", PASSWORD, roles=["broadcaster"])
    with app_db.write() as s:
        cat = TagCategory(name="意向")
        s.add(cat)
        s.flush()
        tag = Tag(category_id=cat.id, name="意向客户")
        s.add(tag)
        accounts = []
        for owner, wxid in ((a.id, "wx_a"), (b.id, "wx_b")):
            acc = WechatAccount(wxid=wxid, nickname=f"客服{wxid}", owner_user_id=owner)
            s.add(acc)
            s.flush()
            accounts.append(acc.id)
            for i in range(3):
                customer = Customer(name=f"{wxid}客户{i}", owner_id=owner)
                s.add(customer)
                s.flush()
                s.add(CustomerTag(customer_id=customer.id, tag_id=tag.id))
                s.add(Friend(account_id=acc.id, wxid=f"{wxid}_f{i}", nickname=f"好友{i}", customer_id=customer.id))
        s.flush()
        return {"tag": tag.id, "a": accounts[0], "b": accounts[1]}


def test_console_create_report_and_cancel(client, login, csrf_token, fleet_world):
    login(client)
    token = csrf_token(client, "/broadcasts/new")
    count = client.post("/broadcasts/preview", data={"mode": "tags", "tag_ids": [fleet_world["tag"]]},
                        headers={"X-CSRFToken": token})
    assert count.get_json() == {"count": 6, "accounts": 2}
    form = {"csrf_token": token, "name": "", "scene": "activity", "mode": "accounts", "msg_type": "text", "text": "${nmae}",
            "send_mode": "now"}
    bad = client.post("/broadcasts/new", data=form)
    page = bad.get_data(as_text=True)
    assert bad.status_code == 400 and "请填写群发名称" in page and "${nmae}" in page and "请选择至少一个微信号" in page
    later = client.post("/broadcasts/new", data={**form, "name": "周末关怀", "text": "${name}周末愉快", "scene": "care",
                                                 "account_ids": [fleet_world["a"]], "send_mode": "later",
                                                 "scheduled_at": "2026-11-21T10:00"})
    assert later.status_code == 302
    detail = client.get(later.headers["Location"]).get_data(as_text=True)
    assert "周末关怀" in detail and "待发送" in detail and "间隔 5–10 秒" in detail
    now = client.post("/broadcasts/new", data={**form, "name": "活动通知", "text": "${name}活动开始",
                                               "account_ids": [fleet_world["a"], fleet_world["b"]]})
    report = client.get(now.headers["Location"]).get_data(as_text=True)
    assert report.count("排队中") >= 6
    bid = int(now.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    assert client.post(f"/broadcasts/{bid}/cancel", data={"csrf_token": token}).status_code == 302
    assert "群发已取消" in client.get(f"/broadcasts/{bid}?state=skipped").get_data(as_text=True)
    listing = client.get("/broadcasts").get_data(as_text=True)
    assert "活动通知" in listing and "周末关怀" in listing


def test_api_scope_of_a_salesperson(app, app_db, fleet_world):
    api = Api(app.test_client(), people.create_token(app_db, "seller_a", "脚本"))
    other = Api(app.test_client(), people.create_token(app_db, "seller_b", "脚本"))
    content = {"msg_type": "text", "text": "${name}您好"}
    assert_error(api.post("/api/v1/broadcasts", {"name": "x", "target": {"mode": "accounts", "account_ids": [fleet_world["b"]]},
                                                 "content": content}), 422, "account_ids")
    assert_error(api.post("/api/v1/broadcasts", {"name": "x", "target": {"mode": "tags", "tag_ids": [1]},
                                                 "content": content, "bogus": 1}), 422, "bogus")
    assert_error(api.post("/api/v1/broadcasts", {"name": "x", "target": {"mode": "tags", "tag_ids": [1]},
                                                 "content": content, "scheduled_at": "明天"}), 422, "scheduled_at")
    created = api.ok("POST", "/api/v1/broadcasts", {"name": "标签群发", "target": {"mode": "tags", "tag_ids": [fleet_world["tag"]]},
                                                    "content": content, "gap_min_seconds": 1, "gap_max_seconds": 2}, 201)
    assert created["recipient_count"] == 3 and created["counts"]["queued"] == 3 and "scope_user_id" not in created["target"]
    report = api.ok("GET", f"/api/v1/broadcasts/{created['id']}/recipients?state=queued")
    assert report["total"] == 3 and {r["account_id"] for r in report["items"]} == {fleet_world["a"]}
    assert_error(api.get(f"/api/v1/broadcasts/{created['id']}/recipients?state=nope"), 400, "state")
    assert_error(other.get(f"/api/v1/broadcasts/{created['id']}"), 404, "群发")
    assert_error(other.post(f"/api/v1/broadcasts/{created['id']}/cancel"), 404, "群发")
    cancelled = api.ok("POST", f"/api/v1/broadcasts/{created['id']}/cancel")
    assert cancelled["status"] == "cancelled" and cancelled["counts"]["skipped"] == 3
    assert_error(api.post(f"/api/v1/broadcasts/{created['id']}/cancel"), 422, "已取消")
