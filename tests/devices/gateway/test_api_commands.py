"""The API's device commands over the real gateway and the simulator: a friend request the phone
reports is 通过'd through /api/v1 (the accept_friend command reaches the phone and its result comes
back), a message sent to the new friend through /api/v1 arrives in the phone's chat, and restarting
the device reaches it too; each command's status is read back through /api/v1/device-commands."""
from __future__ import annotations

from sqlmodel import select

from crm.people import service as people
from devices.models import DeviceCommand, Friend
from tests.web.api_helpers import Api


def _status(api: Api, command_id: int) -> str:
    return api.ok("GET", f"/api/v1/device-commands/{command_id}")["status"]


def test_accept_send_and_restart_through_the_api_reach_the_phone(app, app_db, admin_user, clock, fleet, make_devices):
    api = Api(app.test_client(), people.create_token(app_db, "admin", "gateway"))
    [(device_id, token)] = make_devices()
    f = fleet([token], friends=2, groups=0, members=0)
    phone = f.phones[0]
    assert f.report(0, "friend_request", {"from_wxid": "wxid_api_lead", "nickname": "陈女士", "greeting": "想了解课程",
                                          "source": "search"})["ok"] is True
    assert f.wait_for(lambda: api.ok("GET", "/api/v1/friend-requests")["items"])
    [request] = api.ok("GET", "/api/v1/friend-requests")["items"]
    accepted = api.ok("POST", f"/api/v1/friend-requests/{request['id']}/accept", status=201)
    command_id = accepted["command"]["id"]
    assert f.wait_for(lambda: _status(api, command_id) == "succeeded"), _status(api, command_id)
    assert [(c, p["wxid"]) for c, kind, p in phone.stats.received if kind == "accept_friend"] == \
        [(command_id, "wxid_api_lead")]

    def friend_id():
        with app_db.read() as s:
            row = s.exec(select(Friend).where(Friend.wxid == "wxid_api_lead")).first()
            return row.id if row else None
    assert f.wait_for(lambda: friend_id() is not None)
    sent = api.ok("POST", f"/api/v1/friends/{friend_id()}/messages", {"text": "您好，课程资料发您"}, status=201)
    clock.advance(seconds=60)  # past the send gap the risk budget paced it with
    assert f.wait_for(lambda: _status(api, sent["command_id"]) == "succeeded"), _status(api, sent["command_id"])
    assert any(p.get("to") == "wxid_api_lead" and p.get("text") == "您好，课程资料发您"
               for _c, kind, p in phone.stats.received if kind == "send_text")

    restart = api.ok("POST", f"/api/v1/devices/{device_id}/restart", status=201)["command"]
    assert f.wait_for(lambda: any(c == restart["id"] for c, kind, _p in phone.stats.received if kind == "restart"))
    assert f.wait_for(lambda: _status(api, restart["id"]) in ("succeeded", "acked"))
    with app_db.read() as s:
        assert {c.kind for c in s.exec(select(DeviceCommand))} >= {"accept_friend", "send_text", "restart"}
