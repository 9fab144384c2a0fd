"""/api/v1/devices and /api/v1/device-commands: the fleet list and a device as 设备管理 shows them,
重启 / 解绑 through the risk budget (the command read back by id and listed with filters), refusals
(unbound device, unknown ids, bad filters) that write nothing, and scope: a token without
accounts.manage / conversations.view_all sees only its own accounts on a device and their commands."""
from __future__ import annotations

from sqlmodel import select

from crm.people import roles as role_service
from crm.people.models import User
from devices.models import Device, DeviceCommand, WechatAccount
from tests.devices.console.fixtures import device_permissions, world  # noqa: F401 - fixtures
from tests.web.api_helpers import Api, api, assert_error, count, token_for, viewer_api  # noqa: F401 - fixtures


def test_list_and_detail(api, world):  # noqa: F811
    listed = api.ok("GET", "/api/v1/devices")
    assert listed["summary"] == {"total": 2, "online": 1, "offline": 1, "accounts": 3}
    assert [d["name"] for d in listed["items"]] == ["备用二号机", "运营一号机"]  # offline first
    assert [d["name"] for d in api.ok("GET", "/api/v1/devices?status=online")["items"]] == ["运营一号机"]
    assert [d["name"] for d in api.ok("GET", "/api/v1/devices?q=Redmi")["items"]] == ["运营一号机"]
    detail = api.ok("GET", f"/api/v1/devices/{world['online']}")
    assert {a["wxid"] for a in detail["accounts"]} == {"wxid_sales01", "wxid_sales02"}
    assert detail["logs"][0]["kind_label"] == "上线" and "token_hash" not in detail
    assert_error(api.get("/api/v1/devices?status=lost"), 400, "status")
    assert_error(api.get("/api/v1/devices/999999"), 404, "999999")


def test_restart_and_unbind_issue_commands_read_back(api, app_db, world):  # noqa: F811
    issued = api.ok("POST", f"/api/v1/devices/{world['online']}/restart", status=201)["command"]
    assert (issued["kind"], issued["source"], issued["account_id"]) == ("restart", "manual", world["a1"])
    got = api.ok("GET", f"/api/v1/device-commands/{issued['id']}")
    assert got["status"] == issued["status"] and got["status_label"]
    unbound = api.ok("POST", f"/api/v1/devices/{world['online']}/unbind", status=201)
    assert unbound["command"]["kind"] == "unbind"
    with app_db.read() as s:
        assert not s.get(Device, world["online"]).enabled
    kinds = [c["kind"] for c in api.ok("GET", f"/api/v1/device-commands?device_id={world['online']}")["items"]]
    assert kinds == ["unbind", "restart"]
    assert [c["kind"] for c in api.ok("GET", "/api/v1/device-commands?kind=restart")["items"]] == ["restart"]
    assert_error(api.post(f"/api/v1/devices/{world['online']}/restart"), 422, "设备已解绑")
    assert count(app_db, DeviceCommand) == 2
    assert_error(api.post("/api/v1/devices/999999/restart"), 404, "999999")
    assert_error(api.get("/api/v1/device-commands/999999"), 404, "999999")
    assert_error(api.get("/api/v1/device-commands?status=done"), 400, "status")
    assert_error(api.get("/api/v1/device-commands?kind=explode"), 400, "kind")


def test_scope_permissions_and_masking(api, app, app_db, world, viewer_api):  # noqa: F811
    role_service.create_role(app_db, "fleet_viewer", "设备查看", {"devices.view", "accounts.view"})
    token = token_for(app_db, "watcher", ["fleet_viewer"])
    with app_db.write() as s:
        account = s.exec(select(WechatAccount).where(WechatAccount.wxid == "wxid_sales02")).one()
        account.owner_user_id = s.exec(select(User).where(User.username == "watcher")).one().id
        s.add(account)
    theirs = api.ok("POST", f"/api/v1/devices/{world['online']}/restart", status=201)["command"]  # on wxid_sales01
    with app_db.write() as s:
        mine = DeviceCommand(account_id=world["a2"], kind="add_friend", payload={"phone": "13800138000"})
        s.add(mine)
        s.flush()
        mine_id = mine.id
    watcher = Api(app.test_client(), token)
    detail = watcher.ok("GET", f"/api/v1/devices/{world['online']}")
    assert [a["wxid"] for a in detail["accounts"]] == ["wxid_sales02"]
    assert [c["id"] for c in watcher.ok("GET", "/api/v1/device-commands")["items"]] == [mine_id]
    assert_error(watcher.get(f"/api/v1/device-commands/{theirs['id']}"), 404, str(theirs["id"]))
    shown = watcher.get(f"/api/v1/device-commands/{mine_id}").get_data(as_text=True)
    assert "13800138000" not in shown and "138****8000" in shown
    assert "13800138000" in api.get(f"/api/v1/device-commands/{mine_id}").get_data(as_text=True)
    assert_error(watcher.post(f"/api/v1/devices/{world['online']}/restart"), 403, "devices.manage")
    assert_error(viewer_api.post(f"/api/v1/devices/{world['online']}/unbind"), 403, "devices.manage")
