"""/api/v1/friends and /api/v1/chat-groups: friends searched and filtered as 微信号管理 does, one friend
as 好友详情 shows it, 发消息 (the conversation opened, a send_text command through the risk budget,
client_key idempotent), linking / unlinking / matching a customer, groups with members; phones masked
without pii.view; scope: only the friends and groups of the caller's own accounts, a customer outside
the caller's scope neither shown nor linkable."""
from __future__ import annotations

from sqlmodel import select

from conversations.models import ChatMessage, Conversation
from crm.customers import service as customers
from crm.customers.models import Customer
from crm.people import roles as role_service
from crm.people.models import User
from devices.models import DeviceCommand, Friend, WechatAccount
from tests.devices.console.fixtures import device_permissions, world  # noqa: F401 - fixtures
from tests.devices.console.seed import FRIEND_MOBILE
from tests.web.api_helpers import Api, api, assert_error, count, token_for, viewer_api  # noqa: F401 - fixtures


def _friend(app_db, wxid: str) -> int:
    with app_db.read() as s:
        return s.exec(select(Friend).where(Friend.wxid == wxid)).one().id


def test_list_detail_groups(api, app_db, world):  # noqa: F811
    listed = api.ok("GET", "/api/v1/friends")
    assert listed["total"] == 4 and "已删好友" not in {f["nickname"] for f in listed["items"]}
    assert {f["nickname"] for f in api.ok("GET", "/api/v1/friends?tag=意向客户")["items"]} == {"张三", "赵六"}
    assert [f["nickname"] for f in api.ok("GET", f"/api/v1/friends?q={FRIEND_MOBILE[:7]}")["items"]] == ["张三"]
    assert api.ok("GET", f"/api/v1/friends?account_id={world['a2']}")["total"] == 1
    assert api.ok("GET", "/api/v1/friends?linked=yes")["total"] == 0
    zhang = _friend(app_db, "wxid_zhang")
    detail = api.ok("GET", f"/api/v1/friends/{zhang}")
    assert detail["mobile"] == FRIEND_MOBILE and detail["groups"] == [{"id": world["group"], "name": "存客宝体验群"}]
    assert detail["account"]["wxid"] == "wxid_sales01" and detail["customer"] is None
    groups = api.ok("GET", "/api/v1/chat-groups")["items"]
    assert [g["name"] for g in groups] == ["存客宝体验群"]
    members = api.ok("GET", f"/api/v1/chat-groups/{world['group']}")["members"]
    assert [(m["nickname"], m["friend_id"]) for m in members] == [("张三", zhang), ("李四", _friend(app_db, "wxid_li"))]
    assert api.ok("GET", "/api/v1/chat-groups?q=体验")["items"] and not api.ok("GET", "/api/v1/chat-groups?q=无此群")["items"]
    assert_error(api.get("/api/v1/friends/999999"), 404, "999999")
    assert_error(api.get("/api/v1/chat-groups/999999"), 404, "999999")
    assert_error(api.get("/api/v1/friends?linked=maybe"), 400, "linked")


def test_send_to_a_friend_through_the_risk_budget(api, app_db, world):  # noqa: F811
    zhang = _friend(app_db, "wxid_zhang")
    sent = api.ok("POST", f"/api/v1/friends/{zhang}/messages", {"text": "您好，课程资料发您", "client_key": "k-0001-abcd"},
                  status=201)
    assert sent["text"] == "您好，课程资料发您" and sent["command_id"]
    again = api.ok("POST", f"/api/v1/friends/{zhang}/messages", {"text": "您好，课程资料发您", "client_key": "k-0001-abcd"},
                   status=201)
    assert again["id"] == sent["id"]  # a retry sends once
    with app_db.read() as s:
        command = s.get(DeviceCommand, sent["command_id"])
        assert (command.kind, command.payload["to"], command.source) == ("send_text", "wxid_zhang", "manual")
        assert s.exec(select(Conversation).where(Conversation.peer_id == "wxid_zhang")).one().friend_id == zhang
    assert api.ok("GET", f"/api/v1/friends/{zhang}")["conversation_id"]
    for body, field in (({"text": ""}, "text"), ({"text": 5}, "text"), ({"text": "x", "to": "wxid_li"}, "to")):
        assert_error(api.post(f"/api/v1/friends/{zhang}/messages", body), 422, field)
    assert count(app_db, ChatMessage) == 1 and count(app_db, DeviceCommand) == 1
    assert_error(api.post("/api/v1/friends/999999/messages", {"text": "x"}), 404, "999999")


def test_link_unlink_and_match(api, app_db, world):  # noqa: F811
    zhang, li = _friend(app_db, "wxid_zhang"), _friend(app_db, "wxid_li")
    with app_db.write() as s:
        by_phone = customers.create_customer(s, {"name": "张总", "mobile": FRIEND_MOBILE}).id
        other = Customer(name="李四客户")
        s.add(other)
        s.flush()
        other_id = other.id
    matched = api.ok("POST", f"/api/v1/friends/{zhang}/match")
    assert matched["linked"] is True and matched["friend"]["customer"] == {"id": by_phone, "name": "张总"}
    linked = api.ok("POST", f"/api/v1/friends/{li}/link", {"customer_id": other_id})
    assert linked["customer_id"] == other_id
    assert api.ok("GET", "/api/v1/friends?linked=yes")["total"] == 2
    assert api.ok("POST", f"/api/v1/friends/{li}/unlink")["customer"] is None
    assert_error(api.post(f"/api/v1/friends/{li}/link", {"customer_id": "x"}), 422, "customer_id")
    assert_error(api.post(f"/api/v1/friends/{li}/link", {"customer_id": 999999}), 422, "customer_id")
    with app_db.read() as s:
        assert s.get(Friend, li).customer_id is None


def test_scope_masking_and_permissions(api, app, app_db, world, viewer_api):  # noqa: F811
    role_service.create_role(app_db, "wx_owner", "号主", {"accounts.view", "customers.view", "customers.manage",
                                                          "conversations.view"})
    token = token_for(app_db, "owner1", ["wx_owner"])
    with app_db.write() as s:
        owner_id = s.exec(select(User).where(User.username == "owner1")).one().id
        account = s.get(WechatAccount, world["a2"])
        account.owner_user_id = owner_id
        secret = Customer(name="李四机密")
        s.add_all([account, secret])
        s.flush()
        secret_id = secret.id
        zhao = s.exec(select(Friend).where(Friend.wxid == "wxid_zhao")).one()
        zhao.customer_id, zhao.mobile = secret_id, "13800138000"
        s.add(zhao)
    owner = Api(app.test_client(), token)
    listed = owner.ok("GET", "/api/v1/friends")
    assert [f["nickname"] for f in listed["items"]] == ["赵六"] and listed["items"][0]["customer_id"] is None
    text = owner.get(f"/api/v1/friends/{zhao.id}").get_data(as_text=True)
    assert "李四机密" not in text and "13800138000" not in text and "138****8000" in text
    assert '"customer_hidden":true' in text
    zhang = _friend(app_db, "wxid_zhang")
    assert_error(owner.get(f"/api/v1/friends/{zhang}"), 404, str(zhang))
    assert_error(owner.post(f"/api/v1/friends/{zhang}/messages", {"text": "越权"}), 404, str(zhang))
    # linked to a customer the owner may not see: neither relinked nor unlinked by them
    assert_error(owner.post(f"/api/v1/friends/{zhao.id}/link", {"customer_id": secret_id}), 404)
    assert_error(owner.post(f"/api/v1/friends/{zhao.id}/unlink"), 404)
    with app_db.read() as s:
        assert s.get(Friend, zhao.id).customer_id == secret_id
    assert_error(owner.get(f"/api/v1/chat-groups/{world['group']}"), 404, str(world["group"]))
    assert owner.ok("GET", "/api/v1/chat-groups")["items"] == []
    assert_error(owner.post(f"/api/v1/friends/{zhao.id}/match"), 403, "accounts.manage")
    assert_error(viewer_api.post(f"/api/v1/friends/{zhang}/link", {"customer_id": 1}), 403, "customers.manage")
    assert count(app_db, ChatMessage) == 0
