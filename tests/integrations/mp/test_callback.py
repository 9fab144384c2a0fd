"""公众号 callbacks over the real route, pushed by the fake platform: URL verification, plain and safe
mode, dedupe of retries, routing to the 默认客服, events, and every refusal counted."""
from __future__ import annotations

import base64
import os
from urllib.parse import parse_qs, urlsplit

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from sqlmodel import select

from conversations.models import ChatMessage, Conversation
from crm.people.models import Notification
from events.models import EventRecord
from integrations import wxcrypto
from integrations.mp import accounts
from integrations.mp.models import MpFan
from tests.integrations.mp.conftest import APPID

OPENID = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"


def _counts(svc, account_id):
    with svc.db.read() as s:
        return accounts.counts(s).get(account_id, {})


def _messages(svc):
    with svc.db.read() as s:
        return list(s.exec(select(ChatMessage).order_by(ChatMessage.id)))


def test_url_verification_echoes_only_for_our_token(mp_app, pusher, svc):
    push, account = pusher("safe")
    client = mp_app.test_client()
    resp = client.get(push.verify_url("echo12345"))
    assert (resp.status_code, resp.get_data(as_text=True)) == (200, "echo12345")
    forged = client.get(push.verify_url("echo12345", token="otherToken"))
    assert forged.status_code == 403 and "echo12345" not in forged.get_data(as_text=True)
    assert client.get("/mp/callback/unknown-key?signature=x&timestamp=1&nonce=1&echostr=1").status_code == 404
    assert _counts(svc, account.id) == {"bad_signature": 1}


def test_signed_text_becomes_a_conversation_routed_to_the_default_kefu(mp_app, pusher, svc, staff):
    push, account = pusher("safe")
    resp = push.text(OPENID, "价格多少", msg_id=1001).post(mp_app.test_client())
    assert (resp.status_code, resp.get_data(as_text=True)) == (200, "success")
    with svc.db.read() as s:
        conv = s.exec(select(Conversation)).one()
        assert (conv.channel, conv.account_id, conv.kind, conv.peer_id) == ("mp", account.id, "private", OPENID)
        assert conv.assignee_id == staff["kefu"] and conv.unread_count == 1 and conv.last_inbound_at is not None
        msg = s.exec(select(ChatMessage)).one()
        assert (msg.direction, msg.msg_type, msg.text, msg.external_id) == ("in", "text", "价格多少", "1001")
        note = s.exec(select(Notification).where(Notification.user_id == staff["kefu"])).one()
        assert "新消息" in note.title and note.body == "价格多少" and str(conv.id) in note.link
        event = s.exec(select(EventRecord).where(EventRecord.event_code == "mp.message")).one()
        assert event.status == "accepted", event.errors
        assert event.data["openid"] == OPENID and event.data["text"] == "价格多少"
        assert s.exec(select(MpFan)).one().openid == OPENID
    assert _counts(svc, account.id) == {"accepted": 1}


def test_a_retry_within_five_seconds_is_stored_once(mp_app, pusher, svc, clock):
    push, account = pusher("safe")
    client = mp_app.test_client()
    first = push.text(OPENID, "在吗", msg_id=2002)
    assert first.post(client).get_data(as_text=True) == "success"
    clock.advance(seconds=5)
    retry = push.text(OPENID, "在吗", msg_id=2002)  # WeChat's retry: same MsgId, new nonce and timestamp
    assert retry.post(client).get_data(as_text=True) == "success"
    assert first.post(client).get_data(as_text=True) == "success"  # the same bytes again
    # Another web process (no shared memory) still stores it once: the store's unique external id.
    mp_app.extensions.pop("ckb_mp_memory")
    assert push.text(OPENID, "在吗", msg_id=2002).post(client).status_code == 200
    assert [m.text for m in _messages(svc)] == ["在吗"]
    assert _counts(svc, account.id) == {"accepted": 1, "duplicate": 3}
    with svc.db.read() as s:
        assert len(s.exec(select(EventRecord).where(EventRecord.event_code == "mp.message")).all()) == 1
        assert s.exec(select(Conversation)).one().unread_count == 1


def test_plain_and_compatible_modes(mp_app, pusher, svc, make_account):
    push, account = pusher("plain")
    client = mp_app.test_client()
    assert push.text(OPENID, "明文消息", msg_id=3003).post(client).get_data(as_text=True) == "success"
    with svc.db.write() as s:
        accounts.save_account(s, svc.secret_box, {"name": account.name, "appid": APPID, "token": account.token,
                                                  "aes_key": account.aes_key, "mode": "compatible",
                                                  "default_user_id": account.default_user_id}, account.id)
    push.mode = "compatible"
    assert push.text(OPENID, "兼容模式", msg_id=3004).post(client).get_data(as_text=True) == "success"
    push.mode = "plain"
    assert push.text(OPENID, "兼容模式也收明文", msg_id=3005).post(client).status_code == 200
    assert [m.text for m in _messages(svc)] == ["明文消息", "兼容模式", "兼容模式也收明文"]


def _bad_padding_delivery(push, account):
    """A correctly signed <Encrypt> whose plaintext ends in a zero byte: invalid PKCS#7."""
    key = wxcrypto.aes_key(account.aes_key)
    plain = os.urandom(16) + b"\x00\x00\x00\x05hello" + APPID.encode()
    plain += b"\x00" * (32 - len(plain) % 32)
    enc = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    cipher = base64.b64encode(enc.update(plain) + enc.finalize()).decode()
    good = push.text(OPENID, "x", msg_id=9)
    query = {k: v[0] for k, v in parse_qs(urlsplit(good.path).query).items()}
    query["msg_signature"] = wxcrypto.sha1_signature(account.token, query["timestamp"], query["nonce"], cipher)
    body = f"<xml><ToUserName><![CDATA[gh]]></ToUserName><Encrypt><![CDATA[{cipher}]]></Encrypt></xml>"
    return good.path.split("?")[0] + "?" + "&".join(f"{k}={v}" for k, v in query.items()), body


def test_forged_replayed_and_stale_callbacks_are_refused_and_counted(mp_app, pusher, svc, clock):
    push, account = pusher("safe")
    client = mp_app.test_client()
    assert push.text(OPENID, "伪造", msg_id=1, token="wrongToken1").post(client).status_code == 403
    assert push.text(OPENID, "别人的", msg_id=2, appid="wxffffffffffffffff").post(client).status_code == 403
    path, body = _bad_padding_delivery(push, account)
    assert client.post(path, data=body, content_type="text/xml").status_code == 403
    push.skew_seconds = -3600
    assert push.text(OPENID, "一小时前", msg_id=3).post(client).status_code == 403
    push.skew_seconds = 0
    assert client.post(push.text(OPENID, "x", msg_id=3).path, data=b"<xml><unclosed>").status_code == 403
    xxe = ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
           "<xml><Encrypt>&e;</Encrypt></xml>")
    query = push.text(OPENID, "x", msg_id=4).path.split("?")[1]
    assert client.post(push.path + "?" + query, data=xxe, content_type="text/xml").status_code == 403
    assert _messages(svc) == []
    assert _counts(svc, account.id) == {"bad_signature": 1, "wrong_receiver": 1, "bad_padding": 1,
                                        "stale_timestamp": 1, "malformed": 2}


def test_plain_mode_nonce_reused_for_another_body_is_a_replay(mp_app, pusher, svc):
    push, account = pusher("plain")
    client = mp_app.test_client()
    real = push.text(OPENID, "原消息", msg_id=5005)
    assert real.post(client).status_code == 200
    forged = real.tampered(push.xml(OPENID, "text", {"Content": "伪造的消息", "MsgId": 5006}).encode())
    resp = forged.post(client)
    assert resp.status_code == 403
    assert [m.text for m in _messages(svc)] == ["原消息"]
    assert _counts(svc, account.id) == {"accepted": 1, "replay": 1}


def test_other_types_events_and_oversized_text(mp_app, pusher, svc, fake_mp):
    push, account = pusher("safe")
    client = mp_app.test_client()
    for delivery in (push.image(OPENID, 11), push.location(OPENID, 12), push.link(OPENID, 13),
                     push.message(OPENID, "hologram", {"Content": "未来的消息类型"}, 14),
                     push.text(OPENID, "长" * 30000, msg_id=15),
                     push.event(OPENID, "CLICK", "V1001_PRICE")):
        assert delivery.post(client).get_data(as_text=True) == "success"
    rows = _messages(svc)
    assert [(m.msg_type, m.payload.get("raw_type")) for m in rows] == [
        ("image", None), ("other", "location"), ("link", None), ("other", "hologram"), ("text", None), ("event", None)]
    assert rows[1].text == "广州市天河区" and rows[2].payload["url"] == "https://mp.weixin.qq.com"
    assert len(rows[4].text) == 20000 and rows[4].payload["truncated_from"] == 30000
    assert rows[5].payload == {"event": "CLICK", "event_key": "V1001_PRICE"}
    with svc.db.read() as s:
        click = s.exec(select(EventRecord).where(EventRecord.event_code == "mp.menu_click")).one()
        assert click.status == "accepted" and click.data["event_key"] == "V1001_PRICE"


def test_subscribe_and_unsubscribe_keep_the_fan_current(mp_app, pusher, svc, clock, fake_mp):
    from integrations.mp import runtime

    fake_mp.add_fan(APPID, OPENID, unionid="union-42")
    push, account = pusher("safe")
    client = mp_app.test_client()
    assert push.event(OPENID, "subscribe", "qrscene_spring").post(client).status_code == 200
    assert runtime.drain()
    with svc.db.read() as s:
        fan = s.exec(select(MpFan)).one()
        assert fan.subscribed and fan.subscribe_scene == "qrscene_spring" and fan.unionid == "union-42"
        sub = s.exec(select(EventRecord).where(EventRecord.event_code == "mp.subscribe")).one()
        assert sub.status == "accepted" and sub.data["scene"] == "qrscene_spring"
    clock.advance(seconds=10)
    assert push.event(OPENID, "unsubscribe").post(client).status_code == 200
    with svc.db.read() as s:
        fan = s.exec(select(MpFan)).one()
        assert not fan.subscribed and fan.unsubscribed_at is not None
        assert s.exec(select(EventRecord).where(EventRecord.event_code == "mp.unsubscribe")).one().status == "accepted"
