"""Phone reports carry the phone's time (`at`) and arrive out of order: the event is stamped with
the phone's time, and a late report never undoes a change that happened after it."""
from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from config.clock import as_utc
from devices.models import ChatGroupMember, DeviceLog, Friend, FriendRequest, WechatAccount
from events.models import EventRecord
from tests.devices.gateway.test_protocol import ACCOUNT


def _report(phone, rid, kind, at, data):
    answer = phone.request({"type": "report", "id": rid, "kind": kind, "account": ACCOUNT["wxid"],
                            "at": at.isoformat(), "data": data})
    assert answer["ok"], answer
    return answer


def test_reports_are_stamped_with_the_phones_time(raw_phone, make_devices, app_db, clock):
    [(_device_id, token)] = make_devices()
    phone = raw_phone()
    phone.login(token, [ACCOUNT])
    at = clock.now() - timedelta(minutes=7)
    answer = _report(phone, "r1", "friend_added", at, {"wxid": "wxid_a", "nickname": "甲"})
    ahead = _report(phone, "r2", "message", clock.now() + timedelta(hours=2), {"from_wxid": "wxid_a", "text": "hi"})
    bad = phone.request({"type": "report", "id": "r3", "kind": "message", "account": ACCOUNT["wxid"],
                         "at": "yesterday", "data": {"from_wxid": "wxid_a", "text": "hi"}})
    assert bad["ok"] is False and bad["error"]["code"] == "bad_value"
    with app_db.read() as s:
        assert as_utc(s.get(EventRecord, answer["record_id"]).occurred_at) == at
        assert as_utc(s.exec(select(Friend)).one().added_at) == at
        # A phone clock running ahead is held to the server's time.
        assert as_utc(s.get(EventRecord, ahead["record_id"]).occurred_at) == clock.now()


def test_a_late_friend_report_does_not_undo_a_later_change(raw_phone, make_devices, app_db, clock):
    [(device_id, token)] = make_devices()
    phone = raw_phone()
    account_id = phone.login(token, [ACCOUNT])["accounts"][ACCOUNT["wxid"]]
    t = clock.now() - timedelta(hours=1)
    _report(phone, "d2", "friend_deleted", t + timedelta(minutes=2), {"wxid": "wxid_b"})
    _report(phone, "a1", "friend_added", t + timedelta(minutes=1), {"wxid": "wxid_b", "nickname": "乙"})
    _report(phone, "q0", "friend_request", t, {"from_wxid": "wxid_c"})
    _report(phone, "a3", "friend_added", t + timedelta(minutes=3), {"wxid": "wxid_c"})
    _report(phone, "d1", "friend_deleted", t + timedelta(minutes=1), {"wxid": "wxid_c"})  # before the add: late
    _report(phone, "q1", "friend_request", t - timedelta(minutes=5), {"from_wxid": "wxid_c"})  # asked before
    with app_db.read() as s:
        friends = {f.wxid: f for f in s.exec(select(Friend))}
        assert friends["wxid_b"].deleted_at is not None and friends["wxid_c"].deleted_at is None
        assert s.get(WechatAccount, account_id).friends_count == 1
        assert {r.status for r in s.exec(select(FriendRequest))} == {"accepted"}
        logs = [entry.message for entry in s.exec(select(DeviceLog).where(DeviceLog.device_id == device_id))]
    assert sum("已被更晚发生的事件取代" in m for m in logs) == 2


def test_late_member_reports_and_a_late_list_keep_the_latest_state(raw_phone, make_devices, app_db, clock):
    [(_device_id, token)] = make_devices()
    phone = raw_phone()
    phone.login(token, [ACCOUNT])
    t = clock.now() - timedelta(hours=1)
    room = "88@chatroom"
    _report(phone, "l2", "group_member_left", t + timedelta(minutes=2), {"chatroom_id": room, "members": [{"wxid": "wxid_m"}]})
    _report(phone, "j1", "group_member_joined", t + timedelta(minutes=1), {"chatroom_id": room, "members": [{"wxid": "wxid_m"}]})
    _report(phone, "j3", "group_member_joined", t + timedelta(minutes=3), {"chatroom_id": room, "members": [{"wxid": "wxid_n"}]})
    # A complete list taken before wxid_n joined, arriving late, must not mark them left.
    _report(phone, "s0", "groups_sync", t, {"groups": [{"chatroom_id": room, "members": [{"wxid": "wxid_x"}]}]})
    _report(phone, "f0", "friends_sync", t, {"friends": []})
    with app_db.read() as s:
        members = {m.wxid: m for m in s.exec(select(ChatGroupMember))}
    assert members["wxid_m"].left_at is not None and members["wxid_n"].left_at is None
