"""The message store: a phone's message reports become one conversation per peer and one message per
phone message id; the summary moves forward only; listeners hear of a message after commit only."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from config.clock import utcnow
from conversations.device_messages import record_device_message
from conversations.models import ChatMessage, Conversation
from conversations.store import on_message
from devices.models import ChatGroup, Friend, WechatAccount


@pytest.fixture
def account(db):
    with db.write() as s:
        acc = WechatAccount(wxid="wx_staff", nickname="小美")
        s.add(acc)
        s.flush()
        s.add(Friend(account_id=acc.id, wxid="wx_li", nickname="李四", remark="李总", customer_id=7))
        s.add(ChatGroup(account_id=acc.id, chatroom_id="room1@chatroom", name="宝妈群"))
        return acc.id


def _report(db, account_id, data, at=None, report_id="r1"):
    with db.write() as s:
        acc = s.get(WechatAccount, account_id)
        msg, new = record_device_message(s, acc, data, at or utcnow(), report_id)
        return msg.id, msg.conversation_id, new


def test_private_message_links_friend_and_customer_and_dedupes(db, account):
    heard = []
    unregister = on_message(heard.append)
    try:
        first = _report(db, account, {"from_wxid": "wx_li", "text": "价格多少", "msg_id": "m1"})
        again = _report(db, account, {"from_wxid": "wx_li", "text": "价格多少", "msg_id": "m1"}, report_id="r2")
    finally:
        unregister()
    assert first[2] is True and again[2] is False and again[0] == first[0]
    assert [h.message_id for h in heard] == [first[0]]
    with db.read() as s:
        conv = s.get(Conversation, first[1])
        assert (conv.kind, conv.peer_id, conv.title, conv.customer_id, conv.unread_count) == ("private", "wx_li", "李总", 7, 1)
        assert conv.last_message_text == "价格多少" and conv.last_direction == "in"
        assert len(s.exec(select(ChatMessage)).all()) == 1


def test_group_and_outbound_and_out_of_order(db, account):
    now = utcnow()
    _report(db, account, {"from_wxid": "wx_a", "nickname": "阿华", "chatroom_id": "room1@chatroom", "text": "早",
                          "msg_id": "g1"}, at=now)
    _, conv_id, _ = _report(db, account, {"direction": "out", "to_wxid": "wx_li", "text": "您好", "msg_id": "o1"},
                            at=now)
    _report(db, account, {"from_wxid": "wx_li", "text": "更早的一条", "msg_id": "m0"}, at=now - timedelta(hours=1))
    with db.read() as s:
        group = s.exec(select(Conversation).where(Conversation.kind == "group")).one()
        assert group.title == "宝妈群" and group.group_id is not None
        msg = s.exec(select(ChatMessage).where(ChatMessage.external_id == "g1")).one()
        assert (msg.sender_id, msg.sender_name) == ("wx_a", "阿华")
        conv = s.get(Conversation, conv_id)
        assert conv.last_message_text == "您好"  # the late, older inbound message does not take over
        assert conv.unread_count == 1 and conv.last_outbound_at is not None


def test_unknown_type_and_oversized_text_are_kept(db, account):
    msg_id, _, _ = _report(db, account, {"from_wxid": "wx_li", "msg_type": "red_packet", "text": "字" * 30000,
                                         "msg_id": "x1"})
    with db.read() as s:
        msg = s.get(ChatMessage, msg_id)
        assert msg.msg_type == "other" and msg.payload["raw_type"] == "red_packet"
        assert len(msg.text) == 20000 and msg.payload["truncated_from"] == 30000


def test_rolled_back_message_is_not_announced(db, account):
    heard = []
    unregister = on_message(heard.append)
    try:
        with pytest.raises(RuntimeError):
            with db.write() as s:
                record_device_message(s, s.get(WechatAccount, account), {"from_wxid": "wx_li", "text": "x",
                                                                         "msg_id": "rb"}, utcnow(), "r9")
                raise RuntimeError("crash before commit")
    finally:
        unregister()
    assert heard == []
    with db.read() as s:
        assert s.exec(select(ChatMessage)).all() == []


def test_send_goes_through_the_device_command_and_is_stored(db, account):
    from conversations.outbound import Content, message_state, send
    from devices.models import DeviceCommand
    _, conv_id, _ = _report(db, account, {"from_wxid": "wx_li", "text": "在吗", "msg_id": "m5"})
    with db.write() as s:
        conv = s.get(Conversation, conv_id)
        msg = send(s, conv, Content(text="在的，您好"), user_id=1, idempotency_key="chat:t1")
        command = s.get(DeviceCommand, msg.command_id)
        assert command.kind == "send_text" and command.payload["to"] == "wx_li"
        assert command.payload["text"] == "在的，您好"
        assert msg.direction == "out" and message_state(msg, command)[0] in ("queued", "deferred")
    with db.read() as s:
        conv = s.get(Conversation, conv_id)
        assert conv.last_direction == "out" and conv.last_message_text == "在的，您好"
