"""快捷回复库 pages and the chat box's picker route: CRUD with quick_replies.manage, unknown variables
refused next to the field, department visibility, the picker rendering for a conversation the user may
use (another's is 404), use counts, and GET /api/v1/quick-replies for the sidebar."""
from __future__ import annotations

import pytest
from sqlmodel import select

from conversations.models import Conversation
from conversations.quick_replies.models import QuickReply
from crm.customers.models import Customer
from crm.people import service as people
from crm.people.departments import create_department, set_user_departments
from devices.models import Friend, WechatAccount
from tests.web.api_helpers import PASSWORD, Api, assert_error


@pytest.fixture
def setup(app_db, admin_user):
    people.ensure_builtin_roles(app_db)
    sales = people.create_user(app_db, "sales1", PASSWORD, roles=["sales"])
    other = people.create_user(app_db, "sales2", PASSWORD, roles=["sales"])
    dept = create_department(app_db, "华东销售部")
    set_user_departments(app_db, sales.id, [dept.id])
    with app_db.write() as s:
        customer = Customer(name="张三", owner_id=sales.id)
        s.add(customer)
        mine = WechatAccount(wxid="wx_mine", nickname="小美", owner_user_id=sales.id)
        theirs = WechatAccount(wxid="wx_theirs", nickname="小丽", owner_user_id=other.id)
        s.add(mine)
        s.add(theirs)
        s.flush()
        friend = Friend(account_id=mine.id, wxid="wx_zs", nickname="阿三", customer_id=customer.id)
        s.add(friend)
        s.flush()
        c1 = Conversation(account_id=mine.id, peer_id="wx_zs", friend_id=friend.id, customer_id=customer.id)
        c2 = Conversation(account_id=theirs.id, peer_id="wx_ls")
        s.add(c1)
        s.add(c2)
        s.flush()
        return {"dept": dept.id, "mine": c1.id, "theirs": c2.id, "customer": customer.id, "sales": sales.id}


def _post(client, csrf_token, path, data):
    return client.post(path, data={**data, "csrf_token": csrf_token(client, "/quick-replies")})


def test_manager_creates_and_salesperson_picks_rendered(client, login, csrf_token, setup, app_db):
    login(client)
    bad = _post(client, csrf_token, "/quick-replies/new", {"title": "问候", "text": "${nmae}您好", "visibility": "all"})
    assert bad.status_code == 400 and "${nmae}" in bad.get_data(as_text=True)
    assert _post(client, csrf_token, "/quick-replies/categories", {"name": "售前"}).status_code == 302
    ok = _post(client, csrf_token, "/quick-replies/new", {"title": "价格咨询", "text": "${name}您好，活动价 199 元",
                                                          "visibility": "departments", "department_ids": [setup["dept"]]})
    assert ok.status_code == 302
    _post(client, csrf_token, "/quick-replies/new", {"title": "别部门", "text": "仅客服部", "visibility": "departments",
                                                     "department_ids": [create_department(app_db, "客服部").id]})
    client.get("/quick-replies")  # shows (and so consumes) the flash naming the new reply
    page = client.get("/quick-replies?q=价格").get_data(as_text=True)
    assert "价格咨询" in page and "别部门" not in page

    sales = client.application.test_client()
    login(sales, "sales1", PASSWORD)
    assert sales.get("/quick-replies/new").status_code == 403
    listing = sales.get("/quick-replies").get_data(as_text=True)
    assert "价格咨询" in listing and "别部门" not in listing
    picked = sales.get(f"/quick-replies/pick?q=价格&conversation_id={setup['mine']}").get_json()
    assert [i["text"] for i in picked["items"]] == ["张三您好，活动价 199 元"]
    assert sales.get(f"/quick-replies/pick?q=&conversation_id={setup['theirs']}").status_code == 404
    reply_id = picked["items"][0]["id"]
    token = csrf_token(sales, "/quick-replies")
    used = sales.post(f"/quick-replies/{reply_id}/used", json={"conversation_id": setup["mine"]},
                      headers={"X-CSRFToken": token})
    assert used.get_json()["send_count"] == 1
    assert sales.post(f"/quick-replies/{reply_id}/used", json={"conversation_id": setup["theirs"]},
                      headers={"X-CSRFToken": token}).status_code == 404
    with app_db.read() as s:
        assert s.exec(select(QuickReply.send_count).where(QuickReply.id == reply_id)).one() == 1


def test_api_renders_for_a_visible_customer(app, app_db, setup, admin_user):
    with app_db.write() as s:
        s.add(QuickReply(title="欢迎", text="${name}，欢迎回来"))
    token = people.create_token(app_db, "sales1", "侧边栏")
    api = Api(app.test_client(), token)
    body = api.ok("GET", f"/api/v1/quick-replies?q=欢迎&customer_id={setup['customer']}")
    assert [i["text"] for i in body["items"]] == ["张三，欢迎回来"]
    with app_db.write() as s:
        stranger = Customer(name="李四", owner_id=None)
        s.add(stranger)
        s.flush()
        stranger_id = stranger.id
    assert_error(api.get(f"/api/v1/quick-replies?customer_id={stranger_id}"), 404, "客户")
    assert_error(api.get("/api/v1/quick-replies?customer_id=abc"), 400, "customer_id")
