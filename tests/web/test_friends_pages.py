"""好友详情 and 消息搜索 pages: the profile with labels, linked customer and its CRM tags (a personal
tag of someone else hidden), groups in common, the conversation, moments; mobile masked without
pii.view; link / unlink / automatic match; a 业务员 opens only the friends of their own accounts
(another's is 404) and searches only their conversations; the API answers the same search; every
listed friend name links to its page."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlmodel import select

from config.clock import UTC
from conversations.models import Conversation
from conversations.store import NewMessage, record_message
from crm.customers.models import Customer
from crm.people import service as people
from crm.tags.models import CustomerTag, Tag, TagCategory
from devices.models import ChatGroup, ChatGroupMember, Friend, FriendRequest, Moment, WechatAccount
from tests.web.conftest import get_csrf_token

PASSWORD = "Friends12345"
MOBILE = "13812345678"
T0 = datetime(2026, 11, 18, 2, 0, tzinfo=UTC)


@pytest.fixture
def world(app_db, admin_user):
    people.ensure_builtin_roles(app_db)
    # 业务员 with the friend pages (accounts.view) through a second role; object scope still applies
    people.create_role(app_db, "sales_accounts", "业务员·微信号", ["accounts.view"])
    sales = people.create_user(app_db, "sales_x", PASSWORD, display_name="业务员小许", roles=["sales", "sales_accounts"])
    with app_db.write() as s:
        mine = WechatAccount(wxid="wx_mine", nickname="小美客服", alias="xiaomei", owner_user_id=sales.id)
        other = WechatAccount(wxid="wx_other", nickname="阿杰客服", owner_user_id=admin_user.id)
        s.add_all([mine, other])
        s.flush()
        customer = Customer(name="李四", mobile=MOBILE, wechat_id="wx_li", owner_id=admin_user.id)
        spare = Customer(name="王五新客", wechat_id="wang5", owner_id=admin_user.id)
        s.add_all([customer, spare])
        cat = TagCategory(name="客户等级")
        s.add(cat)
        s.flush()
        vip, secret = Tag(category_id=cat.id, name="高意向"), Tag(category_id=cat.id, name="别人的私人标签", owner_id=999)
        s.add_all([vip, secret])
        s.flush()
        s.add_all([CustomerTag(customer_id=customer.id, tag_id=vip.id), CustomerTag(customer_id=customer.id, tag_id=secret.id)])
        li = Friend(account_id=mine.id, wxid="wx_li", nickname="李四四", remark="李总", mobile=MOBILE, tags=["老客户"],
                    source="qrcode", customer_id=customer.id, added_at=T0)
        zhao = Friend(account_id=other.id, wxid="wx_zhao", nickname="赵六", added_at=T0)
        s.add_all([li, zhao])
        group = ChatGroup(account_id=mine.id, chatroom_id="r1@chatroom", name="宝妈交流群", member_count=2)
        s.add(group)
        s.flush()
        s.add_all([ChatGroupMember(group_id=group.id, wxid="wx_li", nickname="李姐"),
                   ChatGroupMember(group_id=group.id, wxid="wx_stranger", nickname="路人")])
        s.add(FriendRequest(account_id=mine.id, from_wxid="wx_li", nickname="李四四", status="accepted"))
        s.add(Moment(account_id=mine.id, moment_id="mo1", friend_wxid="wx_li", text="今天去看了新房", posted_at=T0))
        for n, (direction, body) in enumerate([("in", "请问价格多少？"), ("out", "这款价格是 199 元")]):
            record_message(s, NewMessage(channel="wechat", account_id=mine.id, kind="private", peer_id="wx_li",
                                         direction=direction, text=body, title="李总", friend_id=li.id,
                                         customer_id=customer.id, external_id=f"m{n}",
                                         sent_at=T0 + timedelta(minutes=n)), now=T0)
        record_message(s, NewMessage(channel="wechat", account_id=other.id, kind="private", peer_id="wx_zhao",
                                     direction="in", text="价格太贵了", title="赵六", friend_id=zhao.id,
                                     external_id="z1", sent_at=T0), now=T0)
        return {"li": li.id, "zhao": zhao.id, "customer": customer.id, "spare": spare.id, "group": group.id,
                "mine": mine.id, "sales": sales.id}


def _admin(client, login):
    assert login(client).status_code == 302
    return get_csrf_token(client, "/accounts/friends")


def test_friend_page_shows_everything_about_the_friend(client, login, world):
    _admin(client, login)
    html = client.get(f"/friends/{world['li']}").get_data(as_text=True)
    for text in ("李总", "李四四", "wx_li", "扫码", "小美客服", "老客户", "李四", "高意向", "宝妈交流群", "李姐",
                 "请问价格多少？", "这款价格是 199 元", "今天去看了新房"):
        assert text in html, text
    assert "别人的私人标签" not in html
    assert client.get("/friends/999999").status_code == 404


def test_mobile_is_masked_without_pii_view(client, app_db, login, world):
    people.create_role(app_db, "account_ops", "微信号运营", ["accounts.view", "accounts.manage"])
    people.create_user(app_db, "ops_o", PASSWORD, roles=["account_ops"])
    assert login(client, "ops_o", PASSWORD).status_code == 302
    html = client.get(f"/friends/{world['li']}").get_data(as_text=True)
    assert "李总" in html and MOBILE not in html and "138****5678" in html
    admin = client.application.test_client()
    _admin(admin, login)
    assert MOBILE in admin.get(f"/friends/{world['li']}").get_data(as_text=True)


def test_link_unlink_and_automatic_match(client, app_db, login, world):
    token = _admin(client, login)
    url = f"/friends/{world['li']}"
    assert client.post(f"{url}/unlink", data={"csrf_token": token}).status_code == 302
    with app_db.read() as s:
        assert s.get(Friend, world["li"]).customer_id is None
        assert s.exec(select(Conversation).where(Conversation.peer_id == "wx_li")).one().customer_id is None
    picker = client.get(f"{url}?customer_q=王五").get_data(as_text=True)
    assert "王五新客" in picker and "关联" in picker
    bad = client.post(f"{url}/link", data={"csrf_token": token, "customer_id": "424242"}, follow_redirects=True)
    assert "客户不存在或无权查看" in bad.get_data(as_text=True)
    client.post(f"{url}/link", data={"csrf_token": token, "customer_id": str(world["spare"])})
    with app_db.read() as s:
        assert s.get(Friend, world["li"]).customer_id == world["spare"]
        assert s.exec(select(Conversation).where(Conversation.peer_id == "wx_li")).one().customer_id == world["spare"]
    client.post(f"{url}/unlink", data={"csrf_token": token})
    done = client.post(f"{url}/match", data={"csrf_token": token}, follow_redirects=True).get_data(as_text=True)
    assert "已按手机号/微信号关联到客户档案" in done
    with app_db.read() as s:
        assert s.get(Friend, world["li"]).customer_id == world["customer"]  # same mobile (sealed, blind index)


def test_a_salesperson_sees_only_friends_of_their_accounts(client, app_db, login, world):
    assert login(client, "sales_x", PASSWORD).status_code == 302
    assert client.get(f"/friends/{world['li']}").status_code == 200
    assert client.get(f"/friends/{world['zhao']}").status_code == 404
    html = client.get("/chat/search?q=价格").get_data(as_text=True)
    assert "请问<mark>价格</mark>多少" in html and "太贵了" not in html
    token = get_csrf_token(client, "/chat/search")
    assert client.post(f"/friends/{world['zhao']}/link", data={"csrf_token": token,
                                                              "customer_id": str(world["spare"])}).status_code == 404
    # their own friend, linked to a customer they may not see: the link stays, and is not re-pointed
    assert client.post(f"/friends/{world['li']}/unlink", data={"csrf_token": token}).status_code == 404
    with app_db.read() as s:
        assert s.get(Friend, world["zhao"]).customer_id is None
        assert s.get(Friend, world["li"]).customer_id == world["customer"]


def test_search_page_and_api(client, app_db, login, world):
    _admin(client, login)
    html = client.get("/chat/search?q=价格").get_data(as_text=True)
    assert "<mark>价格</mark>太贵了" in html and "共 3 条结果" in html
    assert f'href="/friends/{world["li"]}"' in html  # the friend's name is a link
    narrowed = client.get(f"/chat/search?q=价格&account={world['mine']}&direction=out").get_data(as_text=True)
    assert "这款" in narrowed and "价格太贵了" not in narrowed and "请问" not in narrowed
    bad = client.get("/chat/search?q=价格&since=2026-13-01&searched=1").get_data(as_text=True)
    assert "日期格式应为 YYYY-MM-DD" in bad
    assert "请输入要搜索的内容" in client.get("/chat/search?q=&searched=1").get_data(as_text=True)
    token = people.create_token(app_db, "admin", "search")
    api = client.application.test_client()
    resp = api.get("/api/v1/messages/search?q=价格&per_page=2", headers={"Authorization": f"Bearer {token}"})
    body = resp.get_json()
    assert resp.status_code == 200 and len(body["items"]) == 2 and body["has_more"] and body["total"] == 3
    assert {"text": "价格", "match": True} in body["items"][0]["snippet"]
    resp = api.get("/api/v1/messages/search?q=价格&direction=up", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 422 and "direction" in resp.get_json()["error"]["fields"]
    spec = api.get("/api/v1/openapi.json").get_json()
    assert "/api/v1/messages/search" in spec["paths"]


def test_listed_friend_names_link_to_their_page(client, login, world):
    _admin(client, login)
    link = f'href="/friends/{world["li"]}"'
    assert link in client.get("/accounts/friends").get_data(as_text=True)
    assert link in client.get(f"/accounts/{world['mine']}").get_data(as_text=True)
    group = client.get(f"/accounts/groups/{world['group']}").get_data(as_text=True)
    assert link in group and "路人" in group
    assert link in client.get("/accounts/requests?status=all").get_data(as_text=True)
    customer = client.get(f"/customers/{world['customer']}").get_data(as_text=True)
    assert "微信好友" in customer and link in customer
