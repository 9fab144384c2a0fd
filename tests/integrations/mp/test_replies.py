"""Replies through conversations.outbound.send: the customer-service API of the fake platform gets
them after the write transaction, the 48 h window is enforced (ours and the platform's), errcodes
come back as named reasons, and the access_token is cached and refreshed."""
from __future__ import annotations

import pytest
from sqlmodel import select

from conversations.errors import ConversationError
from conversations.models import ChatMessage, Conversation
from conversations.outbound import Content, send
from conversations.store import on_message
from devices.materials import materials_dir
from engine.crm_wiring import all_cron_jobs
from devices.models import Material
from integrations.mp import outbound, runtime
from tests.integrations.mp.conftest import APPID

OPENID = "oFan0000000000000000000000001"


def _inbound(mp_app, pusher, text="价格多少", msg_id=1):
    push, account = pusher("safe")
    assert push.text(OPENID, text, msg_id=msg_id).post(mp_app.test_client()).status_code == 200
    return push, account


def _reply(svc, content: Content, key: str | None = None) -> ChatMessage:
    with svc.db.write() as s:
        conv = s.exec(select(Conversation)).one()
        message = send(s, conv, content, user_id=None, idempotency_key=key, now=svc.now())
    assert runtime.drain()
    with svc.db.read() as s:
        return s.get(ChatMessage, message.id)


def test_reply_reaches_the_customer_service_api(mp_app, pusher, svc, fake_mp):
    _inbound(mp_app, pusher)
    seen = []
    unregister = on_message(seen.append)
    try:
        message = _reply(svc, Content(text="您好，399 元"))
    finally:
        unregister()
    assert (message.direction, message.status, message.reason) == ("out", "sent", "")
    assert fake_mp.sent_to(APPID) == [{"touser": OPENID, "msgtype": "text", "text": {"content": "您好，399 元"}}]
    # stored (queued) then its status change: both announced for the live chat
    assert [s.message_id for s in seen] == [message.id, message.id]


def test_the_same_idempotency_key_sends_once(mp_app, pusher, svc, fake_mp):
    _inbound(mp_app, pusher)
    first = _reply(svc, Content(text="一次"), key="k-1")
    second = _reply(svc, Content(text="一次"), key="k-1")
    assert first.id == second.id and len(fake_mp.sent_to(APPID)) == 1


def test_link_and_image_replies(mp_app, pusher, svc, fake_mp):
    _inbound(mp_app, pusher)
    link = _reply(svc, Content(msg_type="link", url="https://example.com/a", title="新品", description="看看"))
    folder = materials_dir(svc.settings)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "p.jpg").write_bytes(b"\xff\xd8\xff fake jpeg")
    with svc.db.write() as s:
        material = Material(filename="p.jpg", stored_path="p.jpg", mime="image/jpeg", size=14)
        s.add(material)
        s.flush()
        material_id = material.id
    image = _reply(svc, Content(msg_type="image", material_id=material_id))
    assert (link.status, image.status) == ("sent", "sent"), (link.reason, image.reason)
    sent = fake_mp.sent_to(APPID)
    assert sent[0]["news"]["articles"] == [{"title": "新品", "description": "看看", "url": "https://example.com/a"}]
    assert sent[1]["msgtype"] == "image" and sent[1]["image"]["media_id"].startswith("MEDIA_")
    with pytest.raises(ConversationError, match="公众号客服消息支持"):
        _reply(svc, Content(msg_type="miniprogram", appid="wxapp", pagepath="p"))


def test_a_reply_after_48_hours_is_refused_with_the_reason(mp_app, pusher, svc, clock, fake_mp):
    _inbound(mp_app, pusher)
    clock.advance(hours=48, minutes=1)
    with pytest.raises(ConversationError, match="超过48小时客服消息窗口，无法回复") as caught:
        _reply(svc, Content(text="还在吗"))
    assert "粉丝最后一次互动在" in caught.value.message and caught.value.errors["text"]
    with svc.db.read() as s:
        assert [m.direction for m in s.exec(select(ChatMessage))] == ["in"]
    assert fake_mp.sent_to(APPID) == []


def test_a_platform_refusal_is_stored_with_its_chinese_reason(mp_app, pusher, svc, fake_mp):
    _inbound(mp_app, pusher)
    fake_mp.apps[APPID].fans[OPENID].subscribed = False  # the fan left between message and reply
    message = _reply(svc, Content(text="您好"))
    assert (message.status, message.reason) == ("failed", "粉丝已取消关注公众号")
    fake_mp.apps[APPID].fans.pop(OPENID)
    assert _reply(svc, Content(text="您好")).reason == "OpenID 不正确或不属于该公众号"


def test_the_access_token_is_cached_and_fetched_again_when_rejected(mp_app, pusher, svc, fake_mp):
    _inbound(mp_app, pusher)
    _reply(svc, Content(text="一"))
    _reply(svc, Content(text="二"))
    assert fake_mp.token_issues == 1
    fake_mp.expire_tokens(APPID)  # another system refreshed it: ours is now invalid (40001)
    assert _reply(svc, Content(text="三")).status == "sent"
    assert fake_mp.token_issues == 2 and len(fake_mp.sent_to(APPID)) == 3


def test_a_wrong_secret_fails_the_reply_with_the_reason(mp_app, pusher, svc, fake_mp):
    _inbound(mp_app, pusher)
    fake_mp.apps[APPID].secret = "changedSecret000000000000000000"
    assert _reply(svc, Content(text="hi")).reason == "AppSecret 不正确"


def test_stale_queued_replies_are_marked_failed_not_resent(mp_app, pusher, svc, clock):
    _inbound(mp_app, pusher)
    with svc.db.write() as s:
        conv = s.exec(select(Conversation)).one()
        s.add(ChatMessage(conversation_id=conv.id, channel="mp", account_id=conv.account_id, external_id="mpout:lost",
                          direction="out", text="丢失", status="queued", reason=outbound.CLAIM, created_at=svc.now()))
    clock.advance(minutes=11)
    job = {j.key: j for j in all_cron_jobs(svc.settings)}["mp_fail_stale_replies"]  # the scheduler's job
    assert job.run(mp_app.extensions["ckb"]) == "标记未送达的公众号回复 1 条"
    with svc.db.read() as s:
        row = s.exec(select(ChatMessage).where(ChatMessage.external_id == "mpout:lost")).one()
    assert row.status == "failed" and "发送结果未知" in row.reason
