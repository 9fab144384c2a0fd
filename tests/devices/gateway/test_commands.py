"""Command delivery over a real socket: a queued command reaches the phone, its ack and result
are stored and become a `device.command_result` event; silence is retried once, then timeout."""
from __future__ import annotations

from sqlmodel import select

from devices.commands import issue_command
from devices.models import DeviceCommand
from events.models import EventRecord

ACCOUNT = {"wxid": "wxid_sales01", "nickname": "小王"}


def wait_status(app_db, command_id, status, fleet_wait) -> DeviceCommand:
    def check():
        with app_db.read() as s:
            return s.get(DeviceCommand, command_id).status == status
    assert fleet_wait(check), f"command {command_id} never reached {status}"
    with app_db.read() as s:
        return s.get(DeviceCommand, command_id)


def poll(predicate, timeout=5.0):
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def issue(app_db, clock, account_id, kind="send_text", payload=None, key=None):
    with app_db.write() as s:
        cmd = issue_command(s, account_id, kind, payload or {"to": "wxid_cust", "text": "您好，课程资料已发送"},
                            source="manual", idempotency_key=key, now=clock.now())
        return cmd.id, cmd.status


def test_command_ack_and_result_are_recorded(raw_phone, make_devices, app_db, clock):
    [(device_id, token)] = make_devices()
    phone = raw_phone()
    account_id = phone.login(token, [ACCOUNT])["accounts"]["wxid_sales01"]
    command_id, status = issue(app_db, clock, account_id)
    assert status == "queued"

    frame = phone.next_command()
    assert (frame["id"], frame["kind"], frame["payload"]["text"]) == (command_id, "send_text", "您好，课程资料已发送")
    assert frame["timeout"] == 30 and frame["account"] == "wxid_sales01"  # the account that must run it
    phone.send({"type": "ack", "id": command_id})
    cmd = wait_status(app_db, command_id, "acked", poll)
    assert cmd.device_id == device_id and cmd.acked_at is not None
    answer = phone.request({"type": "result", "id": command_id, "ok": True, "result": {"msg_id": "m1"}})
    assert answer["type"] == "ack"
    with app_db.read() as s:
        cmd = s.get(DeviceCommand, command_id)
        assert cmd.status == "succeeded" and cmd.result == {"msg_id": "m1", "attempts": 1}
        [event] = s.exec(select(EventRecord).where(EventRecord.event_code == "device.command_result")).all()
        assert event.source == "device"
        assert event.data == {"command_id": command_id, "kind": "send_text", "ok": True, "error": "", "account_id": account_id}


def test_failed_result_keeps_the_reason(raw_phone, make_devices, app_db, clock):
    [(_id, token)] = make_devices()
    phone = raw_phone()
    account_id = phone.login(token, [ACCOUNT])["accounts"]["wxid_sales01"]
    command_id, _ = issue(app_db, clock, account_id, payload={"to": "9@chatroom", "text": "今晚八点直播"})
    phone.next_command()
    phone.send({"type": "ack", "id": command_id})
    phone.request({"type": "result", "id": command_id, "ok": False, "error": "群聊已解散"})
    with app_db.read() as s:
        cmd = s.get(DeviceCommand, command_id)
        assert (cmd.status, cmd.error) == ("failed", "群聊已解散")
        event = s.exec(select(EventRecord).where(EventRecord.event_code == "device.command_result")).one()
        assert event.data["ok"] is False and event.data["error"] == "群聊已解散"


def test_unacknowledged_command_is_resent_once_then_times_out(raw_phone, make_devices, app_db, clock, gateway):
    [(_id, token)] = make_devices()
    phone = raw_phone()
    account_id = phone.login(token, [ACCOUNT])["accounts"]["wxid_sales01"]
    command_id, _ = issue(app_db, clock, account_id)
    assert phone.next_command()["id"] == command_id  # never acknowledged

    clock.advance(seconds=31)
    assert gateway.delivery.check_timeouts() == 0  # first silence: queued again
    assert phone.next_command()["id"] == command_id
    with app_db.read() as s:
        cmd = s.get(DeviceCommand, command_id)
        assert cmd.status == "sent" and cmd.result["attempts"] == 2 and "重新下发" in cmd.error

    clock.advance(seconds=31)
    assert gateway.delivery.check_timeouts() == 1
    with app_db.read() as s:
        cmd = s.get(DeviceCommand, command_id)
        assert cmd.status == "timeout" and "未确认" in cmd.error and cmd.finished_at is not None
        event = s.exec(select(EventRecord).where(EventRecord.event_code == "device.command_result")).one()
        assert event.data["ok"] is False


def test_commands_for_an_offline_phone_wait_for_it(raw_phone, make_devices, app_db, clock):
    [(_id, token)] = make_devices()
    phone = raw_phone()
    account_id = phone.login(token, [ACCOUNT])["accounts"]["wxid_sales01"]
    phone.close()
    poll(lambda: False, 0.3)
    command_id, _ = issue(app_db, clock, account_id)
    poll(lambda: False, 0.3)
    with app_db.read() as s:
        assert s.get(DeviceCommand, command_id).status == "queued"
    again = raw_phone()
    again.login(token)
    assert again.next_command()["id"] == command_id
