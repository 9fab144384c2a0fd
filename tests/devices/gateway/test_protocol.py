"""The device protocol over a real WebSocket against the live app: hello/auth, heartbeats,
accounts, reports stored as events before their ack, dedupe of re-sent reports, refusals."""
from __future__ import annotations

import json

import pytest
from sqlmodel import select
from websockets.exceptions import ConnectionClosed

from devices.models import ChatGroup, ChatGroupMember, Device, DeviceLog, Friend, FriendRequest, WechatAccount
from devices.registry import set_enabled
from events.models import EventRecord

ACCOUNT = {"wxid": "wxid_sales01", "alias": "ckb_sales01", "nickname": "小王（客服）", "mobile": "13800000001"}


def closed_with(phone, timeout: float = 5.0):
    with pytest.raises(ConnectionClosed) as info:
        while True:
            phone.recv(timeout)
    return info.value.rcvd


def test_hello_heartbeat_accounts_and_a_report_become_an_event(raw_phone, make_devices, app_db):
    [(device_id, token)] = make_devices()
    phone = raw_phone()
    welcome = phone.login(token, [ACCOUNT])
    assert welcome["device_id"] == device_id and welcome["heartbeat_interval"] == 30
    account_id = welcome["accounts"]["wxid_sales01"]

    assert phone.request({"type": "heartbeat", "id": "b1", "battery": 77, "network": "wifi"})["type"] == "ack"
    answer = phone.request({"type": "report", "id": "r-1", "kind": "message", "account": "wxid_sales01",
                            "data": {"from_wxid": "wxid_cust", "nickname": "李女士", "text": "课程怎么报名"}})
    assert answer["ok"] is True and answer["duplicate"] is False

    with app_db.read() as s:
        record = s.get(EventRecord, answer["record_id"])
        assert (record.source, record.event_code, record.status) == ("device", "device.message", "accepted")
        assert record.data["account_id"] == account_id and record.data["text"] == "课程怎么报名"
        assert record.data["is_group"] is False and record.external_id == "r-1"
        device = s.get(Device, device_id)
        assert device.online and device.last_seen_at is not None
        assert s.get(WechatAccount, account_id).device_id == device_id
    phone.request({"type": "heartbeat", "id": "b2", "battery": 76, "network": "4g"})
    with app_db.read() as s:
        device = s.get(Device, device_id)
        assert (device.battery, device.network) == (76, "4g")


def test_a_resent_report_is_stored_once(raw_phone, make_devices, app_db):
    [(_device_id, token)] = make_devices()
    phone = raw_phone()
    phone.login(token, [ACCOUNT])
    frame = {"type": "report", "id": "r-7", "kind": "friend_request", "account": "wxid_sales01",
             "data": {"from_wxid": "wxid_lead", "nickname": "张先生", "greeting": "朋友推荐", "source": "card"}}
    first = phone.request(frame)
    again = phone.request(frame)
    assert first["ok"] and again["ok"] and again["duplicate"] is True
    assert again["record_id"] == first["record_id"]
    with app_db.read() as s:
        assert len(s.exec(select(EventRecord).where(EventRecord.event_code == "device.friend_request")).all()) == 1
        [request] = s.exec(select(FriendRequest)).all()
        assert (request.from_wxid, request.greeting, request.status) == ("wxid_lead", "朋友推荐", "pending")


def test_syncs_and_group_joins_update_our_records(raw_phone, make_devices, app_db):
    [(_device_id, token)] = make_devices()
    phone = raw_phone()
    account_id = phone.login(token, [ACCOUNT])["accounts"]["wxid_sales01"]
    friends = [{"wxid": f"wxid_f{i}", "nickname": f"好友{i}", "tags": ["老客户"]} for i in range(3)]
    assert phone.request({"type": "report", "id": "s1", "kind": "friends_sync", "account": "wxid_sales01",
                          "data": {"friends": friends}})["ok"]
    room = {"chatroom_id": "123@chatroom", "name": "读书会", "members": [{"wxid": "wxid_f0", "nickname": "好友0"}]}
    assert phone.request({"type": "report", "id": "s2", "kind": "groups_sync", "account": "wxid_sales01",
                          "data": {"groups": [room]}})["ok"]
    # A later complete list without wxid_f2 marks that friend deleted (kept for history).
    assert phone.request({"type": "report", "id": "s3", "kind": "friends_sync", "account": "wxid_sales01",
                          "data": {"friends": friends[:2]}})["ok"]
    joined = phone.request({"type": "report", "id": "j1", "kind": "group_member_joined", "account": "wxid_sales01",
                            "data": {"chatroom_id": "123@chatroom", "members": [{"wxid": "wxid_new", "nickname": "新人"}]}})
    with app_db.read() as s:
        rows = {f.wxid: f for f in s.exec(select(Friend).where(Friend.account_id == account_id))}
        assert rows["wxid_f2"].deleted_at is not None and rows["wxid_f0"].deleted_at is None
        assert rows["wxid_f1"].tags == ["老客户"]
        group = s.exec(select(ChatGroup)).one()
        assert (group.name, group.member_count) == ("读书会", 2)
        assert {m.wxid for m in s.exec(select(ChatGroupMember))} == {"wxid_f0", "wxid_new"}
        event = s.get(EventRecord, joined["record_id"])
        assert event.event_code == "device.group_member_joined"
        assert event.data["group_id"] == group.id and event.data["wxids"] == ["wxid_new"]
        assert s.get(WechatAccount, account_id).friends_count == 2


def test_bad_token_is_refused_with_a_reason(raw_phone, make_devices):
    make_devices()
    phone = raw_phone()
    phone.send({"type": "hello", "id": "h1", "token": "ckbd_not-a-real-token"})
    answer = phone.recv()
    assert answer["type"] == "error" and answer["code"] == "auth_failed"
    close = closed_with(phone)
    assert close.code == 4001 and close.reason == "设备令牌无效"


def test_unbound_device_is_refused(raw_phone, make_devices, app_db):
    [(device_id, token)] = make_devices()
    with app_db.write() as s:
        set_enabled(s, device_id, False)
    phone = raw_phone()
    phone.send({"type": "hello", "id": "h1", "token": token})
    assert phone.recv()["code"] == "device_disabled"
    assert closed_with(phone).code == 4003
    with app_db.read() as s:
        assert any("已解绑" in log.message for log in s.exec(select(DeviceLog).where(DeviceLog.device_id == device_id)))


def test_first_frame_must_be_hello(raw_phone):
    phone = raw_phone()
    phone.send({"type": "heartbeat", "id": "b1"})
    assert phone.recv()["code"] == "hello_required"
    assert closed_with(phone).code == 4000


def test_oversized_frame_closes_the_connection(raw_phone, make_devices):
    [(_id, token)] = make_devices()
    phone = raw_phone()
    phone.login(token, [ACCOUNT])
    phone.send(json.dumps({"type": "report", "id": "big", "kind": "message", "account": "wxid_sales01",
                           "data": {"from_wxid": "x", "text": "字" * 400_000}}, ensure_ascii=False))
    answer = phone.recv()
    assert answer["code"] == "frame_too_large"
    assert closed_with(phone).code == 1009


def test_deep_frame_closes_the_connection(raw_phone, make_devices):
    [(_id, token)] = make_devices()
    phone = raw_phone()
    phone.login(token, [ACCOUNT])
    deep = {"x": 1}
    for _ in range(20):
        deep = {"x": deep}
    phone.send({"type": "report", "id": "deep", "kind": "message", "account": "wxid_sales01", "data": deep})
    answer = phone.recv()
    assert answer["code"] == "too_deep" and "嵌套" in answer["message"]
    assert closed_with(phone).code == 4000


def test_bad_reports_are_answered_not_dropped(raw_phone, make_devices, app_db):
    [(_id, token)] = make_devices()
    phone = raw_phone()
    phone.login(token, [ACCOUNT])
    stranger = phone.request({"type": "report", "id": "r1", "kind": "message", "account": "wxid_other",
                              "data": {"from_wxid": "x"}})
    assert stranger["ok"] is False and "不在本设备上" in stranger["error"]["message"]
    missing = phone.request({"type": "report", "id": "r2", "kind": "moment_posted", "account": "wxid_sales01",
                             "data": {"friend_wxid": "x"}})
    assert missing["ok"] is False and "moment_id" in missing["error"]["message"]
    risky = phone.request({"type": "report", "id": "r3", "kind": "risk_signal", "account": "wxid_sales01",
                           "data": {"kind": "too_frequent", "text": "操作过于频繁"}})
    assert risky["ok"] is True
    with app_db.read() as s:
        record = s.get(EventRecord, risky["record_id"])
        assert record.event_code == "device.risk_signal" and record.data["kind"] == "too_frequent"


@pytest.mark.parametrize("data, field", [
    ({"from_wxid": "wxid_cust", "text": "课程\udc00报名"}, "data.text"),
    ({"from_wxid": "wxid_cust", "text": "课程\x00报名"}, "data.text"),
    ({"from_wxid": "wxid_cust", "text": "hi", "score": float("inf")}, "data.score"),
])
def test_unstorable_report_is_refused_naming_the_field_and_writes_nothing(raw_phone, make_devices, app_db,
                                                                         data, field):
    """NUL, lone surrogates and NaN/Infinity are answered ok=false (so the phone stops re-sending),
    the connection stays open, and nothing is written (PostgreSQL would refuse it, SQLite would
    jam the step that reads it)."""
    [(_id, token)] = make_devices()
    phone = raw_phone()
    phone.login(token, [ACCOUNT])
    phone.send(json.dumps({"type": "report", "id": "bad-1", "kind": "message", "account": "wxid_sales01",
                           "data": data}))
    answer = phone.recv()
    assert answer["ok"] is False and answer["error"]["code"] == "bad_value" and field in answer["error"]["message"]
    assert phone.request({"type": "heartbeat", "id": "b1", "battery": 70, "network": "wifi"})["type"] == "ack"
    with app_db.read() as s:
        assert s.exec(select(EventRecord)).all() == []


def test_bookkeeping_frames_are_cleaned_of_unstorable_text(raw_phone, make_devices, app_db):
    [(_id, token)] = make_devices()
    phone = raw_phone()
    welcome = phone.login(token, [{**ACCOUNT, "nickname": "小王\x00客服"}])
    with app_db.read() as s:
        assert s.get(WechatAccount, welcome["accounts"]["wxid_sales01"]).nickname == "小王\ufffd客服"
