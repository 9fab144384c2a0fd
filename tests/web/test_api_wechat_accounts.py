"""/api/v1/wechat-accounts and /api/v1/friend-requests: accounts with usage against caps, one with its
health history, 暂停 / 恢复 / 负责人, friend requests listed and 通过 (accept_friend through the risk
budget, refused → still pending) or 拒绝; refusals name the field and write nothing; scope: a token
without accounts.manage / conversations.view_all sees only its own accounts and their requests."""
from __future__ import annotations

from sqlmodel import select

from crm.people import roles as role_service
from crm.people.models import User
from devices.models import DeviceCommand, FriendRequest, WechatAccount
from tests.devices.console.fixtures import device_permissions, world  # noqa: F401 - fixtures
from tests.web.api_helpers import Api, api, assert_error, count, token_for, viewer_api  # noqa: F401 - fixtures


def test_accounts_list_detail_pause_resume_owner(api, app_db, world):  # noqa: F811
    items = api.ok("GET", "/api/v1/wechat-accounts")["items"]
    assert [a["wxid"] for a in items] == ["wxid_sales01", "wxid_sales02", "wxid_sales03"]
    first = items[0]
    assert first["usage"] == {"add_friend": 0, "send": 0} and first["caps"]["add_friend"] > 0
    assert first["device_name"] == "运营一号机" and first["device_online"] is True
    assert [a["wxid"] for a in api.ok("GET", "/api/v1/wechat-accounts?status=paused")["items"]] == ["wxid_sales02"]
    detail = api.ok("GET", f"/api/v1/wechat-accounts/{world['a2']}")
    assert [h["score_after"] for h in detail["health_history"]] == [85, 65, 62]
    paused = api.ok("POST", f"/api/v1/wechat-accounts/{world['a1']}/pause", {"hours": 24, "reason": "休息一天"})
    assert paused["status"] == "paused" and paused["pause_reason"] == "休息一天" and paused["paused_until"]
    assert api.ok("POST", f"/api/v1/wechat-accounts/{world['a1']}/resume")["status"] == "normal"
    admin_id = api.ok("GET", "/api/v1/users")["items"][0]["id"]
    assert api.ok("PUT", f"/api/v1/wechat-accounts/{world['a1']}/owner", {"owner_user_id": admin_id})["owner_user_id"] \
        == admin_id
    assert api.ok("PUT", f"/api/v1/wechat-accounts/{world['a1']}/owner", {"owner_user_id": None})["owner_user_id"] is None
    for body, field in (({"hours": 0}, "hours"), ({"hours": "24"}, "hours"), ({}, "hours"), ({"hours": 2, "x": 1}, "x")):
        assert_error(api.post(f"/api/v1/wechat-accounts/{world['a1']}/pause", body), 422, field)
    assert_error(api.put(f"/api/v1/wechat-accounts/{world['a1']}/owner", {"owner_user_id": 999999}), 422, "owner_user_id")
    with app_db.read() as s:
        account = s.get(WechatAccount, world["a1"])
        assert (account.status, account.owner_user_id) == ("normal", None)
    assert_error(api.get("/api/v1/wechat-accounts/999999"), 404, "999999")
    assert_error(api.get("/api/v1/wechat-accounts?status=happy"), 400, "status")


def test_friend_requests_accept_and_reject(api, app_db, world):  # noqa: F811
    pending = api.ok("GET", "/api/v1/friend-requests")["items"]
    assert [r["nickname"] for r in pending] == ["新朋友"] and pending[0]["greeting"] == "想了解课程"
    assert {r["status"] for r in api.ok("GET", "/api/v1/friend-requests?status=all")["items"]} == {"pending", "accepted"}
    accepted = api.ok("POST", f"/api/v1/friend-requests/{pending[0]['id']}/accept", status=201)
    assert accepted["request"]["status"] == "accepted" and accepted["request"]["handled_by"].startswith("user:")
    assert (accepted["command"]["kind"], accepted["command"]["payload"]["wxid"]) == ("accept_friend", "wxid_new1")
    assert api.ok("GET", f"/api/v1/device-commands/{accepted['command']['id']}")["kind"] == "accept_friend"
    assert_error(api.post(f"/api/v1/friend-requests/{pending[0]['id']}/reject"), 422, "已处理")
    assert_error(api.post("/api/v1/friend-requests/999999/accept"), 404, "999999")
    assert_error(api.get("/api/v1/friend-requests?status=maybe"), 400, "status")


def test_refused_accept_writes_nothing_and_reject(api, app_db, world):  # noqa: F811
    with app_db.write() as s:
        s.get(WechatAccount, world["a1"]).status = "banned"
        request_id = s.exec(select(FriendRequest).where(FriendRequest.status == "pending")).one().id
    assert_error(api.post(f"/api/v1/friend-requests/{request_id}/accept"), 422, "风控")
    with app_db.read() as s:
        assert s.get(FriendRequest, request_id).status == "pending"
    assert count(app_db, DeviceCommand) == 0
    rejected = api.ok("POST", f"/api/v1/friend-requests/{request_id}/reject")
    assert rejected["status"] == "rejected"


def test_scope_and_permissions(api, app, app_db, world, viewer_api):  # noqa: F811
    role_service.create_role(app_db, "wx_viewer", "微信号查看", {"accounts.view"})
    token = token_for(app_db, "owner1", ["wx_viewer"])
    with app_db.write() as s:
        account = s.get(WechatAccount, world["a2"])
        account.owner_user_id = s.exec(select(User).where(User.username == "owner1")).one().id
        s.add(account)
    owner = Api(app.test_client(), token)
    assert [a["wxid"] for a in owner.ok("GET", "/api/v1/wechat-accounts")["items"]] == ["wxid_sales02"]
    assert_error(owner.get(f"/api/v1/wechat-accounts/{world['a1']}"), 404, str(world["a1"]))
    assert owner.ok("GET", "/api/v1/friend-requests?status=all")["items"] == []  # the requests are a1's
    assert_error(owner.post(f"/api/v1/wechat-accounts/{world['a2']}/pause", {"hours": 1}), 403, "accounts.manage")
    assert_error(viewer_api.post("/api/v1/friend-requests/1/accept"), 403, "accounts.manage")
