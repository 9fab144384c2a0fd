"""Acceptance of 群发助手 over real sockets with the phone simulator: the seed's body through
POST /api/social/groups/broadcast (HTTP, bearer token) → 202 → 100 groups on four phones, one of
them (3 groups) offline; the 97 online groups are delivered, the offline three wait (named, with
their account and why) and go out when that phone reconnects: ≥ 99 % delivered, the rest named."""
from __future__ import annotations

import pytest
import requests
from sqlmodel import col, select

from community.groups.broadcast import run_due
from crm.people import service as people
from devices.models import ChatGroup, Device, DeviceCommand, WechatAccount

SEED = {"msgType": "text", "content": "今晚8点有盲盒秒杀活动", "scheduledTime": "2025-03-03T20:00:00Z"}


@pytest.fixture
def settings(settings):
    # The test's clock stands still: no pacing gaps (they would never pass); the hourly cap stays on.
    return settings.model_copy(update={"budget_group_gap_min_seconds": 0.0, "budget_group_gap_max_seconds": 0.0})


def _groups_of(app_db, tokens_device_ids) -> dict[int, list[int]]:
    with app_db.read() as s:
        out = {}
        for device_id in tokens_device_ids:
            accounts = s.exec(select(WechatAccount.id).where(WechatAccount.device_id == device_id)).all()
            out[device_id] = list(s.exec(select(ChatGroup.id).where(col(ChatGroup.account_id).in_(accounts))
                                         .order_by(ChatGroup.id)).all())
        return out


def test_seed_broadcast_to_100_groups_with_an_offline_phone_that_reconnects(
        fleet, make_devices, app_db, gateway, live_server, admin_user, settings, clock):
    gateway.delivery.gate.floor = gateway.delivery.gate.jitter = 0
    devices = make_devices(4)
    online = fleet([t for _i, t in devices[:3]], accounts=(1, 1), groups=33, members=3, friends=3, min_send_gap=0)
    late_token = devices[3][1]
    late = fleet([late_token], accounts=(1, 1), groups=3, members=3, friends=3, min_send_gap=0)
    groups = _groups_of(app_db, [d for d, _t in devices])
    assert [len(groups[d]) for d, _t in devices] == [33, 33, 33, 3]
    late.stop()

    def offline():
        with app_db.read() as s:
            return s.get(Device, devices[3][0]).online is False
    assert online.wait_for(offline, timeout=20)

    target = (groups[devices[0][0]] + groups[devices[1][0]] + groups[devices[2][0]])[:97] + groups[devices[3][0]]
    token = people.create_token(app_db, "admin", "群发")
    headers = {"Authorization": f"Bearer {token}"}
    resp = requests.post(f"{live_server.url}/api/social/groups/broadcast", json={**SEED, "groupIds": target},
                         headers=headers, timeout=30)
    assert resp.status_code == 202, resp.text
    bid = resp.json()["broadcastId"]
    report_url = f"{live_server.url}/api/social/groups/broadcast/{bid}"

    def report():
        return requests.get(report_url, headers=headers, timeout=30).json()

    assert online.wait_for(lambda: report()["delivered"] == 97, timeout=60), report()
    waiting = [g for g in report()["groups"] if g["status"] != "delivered"]
    assert len(waiting) == 3 and all(g["status"] == "waiting" and "设备离线" in g["reason"] and g["account"]
                                     for g in waiting)
    run_due(app_db, clock.now(), settings, None)  # the cron sweep keeps them waiting (deadline not reached)
    assert report()["pending"] == 3

    back = fleet([late_token], accounts=(1, 1), groups=3, members=3, friends=3, min_send_gap=0)
    assert back.wait_for(lambda: report()["pending"] == 0, timeout=60), report()  # every group settled
    final = report()
    assert final["total"] == 100 and final["deliveryRate"] >= 99.0
    for g in final["groups"]:
        assert g["groupName"] and g["account"]
        if g["status"] != "delivered":
            assert g["reason"], g  # the rest are named, with why
    run_due(app_db, clock.now(), settings, None)
    assert report()["status"] == "done"
    with app_db.read() as s:
        sends = s.exec(select(DeviceCommand).where(DeviceCommand.kind == "send_text")).all()
    assert len(sends) == 100 and {c.payload["text"] for c in sends} == {SEED["content"]}
    assert all(c.payload["to"].endswith("@chatroom") for c in sends)
