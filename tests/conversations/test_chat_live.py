"""The live hub: a stored message becomes one event (after commit), an outbound message's state
follows its device command (stored on the message and announced), a message stored by another
process arrives over Redis, a browser too far behind is told to reset, and an idle hub stops."""
from __future__ import annotations

import json
import time

import pytest

from config.clock import utcnow
from conversations import chat_send
from conversations.live import CHANNEL, LiveHub
from conversations.models import ChatMessage
from devices.models import DeviceCommand
from tests.conversations.chat_world import build, report, viewer


def _collect(hub, after, want, timeout=5.0):
    deadline, got = time.monotonic() + timeout, []
    while time.monotonic() < deadline and len(got) < want:
        after, events = hub.wait(after, 0.2)
        got += events
    return after, got


@pytest.fixture
def w(db):
    return build(db)


@pytest.fixture
def hub(db, w):
    h = LiveHub(db)
    h.touch()
    yield h
    h.stop()


def test_a_stored_message_is_announced_once_with_its_conversation(db, w, hub):
    start = hub.seq
    _conv, msg_id = report(db, w["acc_a"], {"from_wxid": "wx_f1", "text": "还在吗", "msg_id": "live1"}, utcnow(), "rl")
    report(db, w["acc_a"], {"from_wxid": "wx_f1", "text": "还在吗", "msg_id": "live1"}, utcnow(), "rl")  # a re-sent report
    _seq, events = _collect(hub, start, 1)
    time.sleep(0.3)
    _seq, more = hub.wait(_seq, 0.1)
    assert len(events) == 1 and more == []
    event = events[0]
    assert event["type"] == "message" and event["message"]["id"] == msg_id and event["message"]["text"] == "还在吗"
    assert event["conversation"]["id"] == w["conv_a"] and event["conversation"]["unread_count"] == 2


def test_an_outbound_message_follows_its_command(db, w, hub):
    with db.write() as s:
        msg = chat_send.send_in_conversation(s, viewer(w["a"]), w["conv_a"], {"text": "您好"}, user_id=w["a"])
    after, events = _collect(hub, 0, 5)
    sent = [e for e in events if e["type"] == "message" and e["message"]["id"] == msg.id]
    assert sent and sent[0]["message"]["status"] == "queued"
    with db.write() as s:
        cmd = s.get(DeviceCommand, msg.command_id)
        cmd.status, cmd.result = "succeeded", {"msg_id": "m1"}
    _after, events = _collect(hub, after, 1)
    assert events[0]["type"] == "status" and events[0]["message"]["status"] == "sent"
    with db.read() as s:
        assert s.get(ChatMessage, msg.id).status == "sent"


def test_a_message_from_another_process_arrives_over_redis(db, redis_url):
    import redis

    w = build(db)
    h = LiveHub(db, redis_url=redis_url)
    h.touch()
    try:
        time.sleep(0.5)  # subscribed
        start = h.seq
        with db.read() as s:
            other = s.get(ChatMessage, w["msg_a"])
        redis.Redis.from_url(redis_url).publish(CHANNEL, json.dumps({"origin": "another-process", "stored": [
            {"message_id": other.id, "conversation_id": other.conversation_id, "channel": "wechat",
             "account_id": other.account_id, "direction": "in", "customer_id": None}]}))
        _seq, events = _collect(h, start, 1)
        assert events and events[0]["message"]["id"] == other.id
    finally:
        h.stop()


def test_a_browser_too_far_behind_resets_and_an_idle_hub_stops(db):
    now = [0.0]
    h = LiveHub(db, clock=lambda: now[0])
    for i in range(5100):
        h.publish({"type": "status", "message": {"id": i}})
    assert h.wait(0, 0)[1] == [{"type": "reset"}]
    assert len(h.wait(h.seq - 3, 0)[1]) == 3
    h.touch()
    assert h.running
    now[0] = 1000.0
    deadline = time.monotonic() + 5
    while h.running and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not h.running
