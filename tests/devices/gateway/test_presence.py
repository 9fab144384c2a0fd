"""Online/offline bookkeeping with the ManualClock: a phone silent for more than three
heartbeats is marked offline once, logged, announced as `device.offline`, and hung up."""
from __future__ import annotations

from sqlmodel import select

from devices.models import Device, DeviceLog
from events.models import EventRecord
from tests.devices.gateway.test_commands import poll


def test_silent_phone_goes_offline_once(raw_phone, make_devices, app_db, clock, gateway):
    [(device_id, token)] = make_devices()
    phone = raw_phone()
    phone.login(token, [{"wxid": "wxid_a", "nickname": "小王"}])
    clock.advance(seconds=60)
    phone.request({"type": "heartbeat", "id": "b1", "battery": 50})
    clock.advance(seconds=80)  # 80 s since the last heartbeat: fewer than three missed
    assert gateway.sweep_offline() == []

    clock.advance(seconds=11)
    gateway.sweep_offline()  # the delivery loop's housekeeping may have got there first: same result
    assert gateway.sweep_offline() == []  # alerted once per outage
    with app_db.read() as s:
        device = s.get(Device, device_id)
        assert not device.online and device.offline_alerted
        logs = [log.message for log in s.exec(select(DeviceLog).where(DeviceLog.device_id == device_id, DeviceLog.kind == "alert"))]
        assert any("离线告警" in m and "90 秒" in m for m in logs)
        event = s.exec(select(EventRecord).where(EventRecord.event_code == "device.offline")).one()
        assert event.status == "accepted" and event.data["device_id"] == device_id and len(event.data["account_ids"]) == 1
    assert poll(lambda: gateway.registry.get(device_id) is None)


def test_reconnect_clears_the_outage(raw_phone, make_devices, app_db, clock, gateway):
    [(device_id, token)] = make_devices()
    phone = raw_phone()
    phone.login(token)
    phone.close()
    assert poll(lambda: gateway.registry.get(device_id) is None)
    with app_db.read() as s:
        assert not s.get(Device, device_id).online
    clock.advance(seconds=30)
    assert gateway.sweep_offline() == []  # a short drop does not alert
    raw_phone().login(token)
    clock.advance(seconds=60)
    assert gateway.sweep_offline() == []
    with app_db.read() as s:
        device = s.get(Device, device_id)
        assert device.online and not device.offline_alerted


def test_a_heartbeat_read_but_not_yet_stored_keeps_the_phone_online(raw_phone, make_devices, app_db, clock, gateway):
    """The outcome writer stores heartbeats later (seconds later on a loaded machine); the sweep
    must not hang up a phone whose frame this process has already read."""
    [(device_id, token)] = make_devices()
    phone = raw_phone()
    phone.login(token)
    clock.advance(seconds=100)
    conn = gateway.registry.get(device_id)
    assert gateway.read_frame(conn, '{"type": "heartbeat", "id": "b1"}') is not None  # read, never submitted
    assert gateway.sweep_offline() == []
    assert gateway.registry.get(device_id) is conn and not conn.closed
    with app_db.read() as s:
        assert s.get(Device, device_id).online
