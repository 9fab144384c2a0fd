"""触客宝 console and API: the page lists the user's conversations and opens one; another's is 404
everywhere; sending (JSON, client key once), reading, transferring and the portrait's actions; the
live stream answers with SSE, the 429 past the stream limit, and the poll fallback."""
from __future__ import annotations

import json

import pytest
from sqlmodel import select

from conversations.chat_models import ConversationTransfer
from conversations.models import ChatMessage, Conversation
from crm.people import service as people
from crm.sales.models import FollowUp
from devices.models import DeviceCommand
from tests.conversations.chat_world import PASSWORD, build
from tests.web.conftest import get_csrf_token


@pytest.fixture
def w(app_db):
    return build(app_db)


@pytest.fixture
def console(app, w, login):
    c = app.test_client()
    assert login(c, "sales_a", PASSWORD).status_code == 302
    c.csrf = get_csrf_token(c, "/chat")
    return c


def _post_json(c, url, data):
    return c.post(url, json=data, headers={"X-CSRFToken": c.csrf, "Accept": "application/json"})


def test_the_page_lists_my_conversations_and_opens_one(console, w):
    html = console.get("/chat").get_data(as_text=True)
    assert "陈女士" in html and "宝妈群" in html and "乙的好友" not in html and "乙的秘密" not in html
    html = console.get(f"/chat?conversation={w['conv_a']}").get_data(as_text=True)
    assert 'data-chat-compose data-conversation-id="%d"' % w["conv_a"] in html
    assert '<textarea name="text"' in html and "甲的客户" in html
    assert console.get(f"/chat?conversation={w['conv_b']}").status_code == 404
    assert "陈女士" not in console.get("/chat?show=mine&q=王").get_data(as_text=True)


def test_messages_read_send_and_scope(console, app_db, w):
    data = console.get(f"/chat/{w['conv_a']}/messages").get_json()
    assert [m["text"] for m in data["messages"]] == ["价格多少"]
    assert console.get(f"/chat/{w['conv_b']}/messages").status_code == 404
    assert _post_json(console, f"/chat/{w['conv_a']}/read", {}).get_json()["unread_count"] == 0
    first = _post_json(console, f"/chat/{w['conv_a']}/send", {"text": "您好，199 元", "client_key": "abcdef123456"})
    again = _post_json(console, f"/chat/{w['conv_a']}/send", {"text": "您好，199 元", "client_key": "abcdef123456"})
    assert first.status_code == 201 and again.get_json()["message"]["id"] == first.get_json()["message"]["id"]
    paced = _post_json(console, f"/chat/{w['conv_a']}/send", {"text": "还有优惠哦", "client_key": "abcdef123457"})
    body = paced.get_json()["message"]
    assert body["status_label"] == "已延后" and "发送间隔" in body["reason"]
    bad = _post_json(console, f"/chat/{w['conv_a']}/send", {"text": " "})
    assert bad.status_code == 422 and bad.get_json()["fields"] == {"text": "消息内容不能为空"}
    assert _post_json(console, f"/chat/{w['conv_b']}/send", {"text": "越权"}).status_code == 404
    with app_db.read() as s:
        assert len(s.exec(select(DeviceCommand)).all()) == 2
        assert s.get(Conversation, w["conv_b"]).last_direction == "in"


def test_transfer_and_portrait_actions(console, app_db, w):
    resp = console.post(f"/chat/{w['conv_a']}/transfer", data={"csrf_token": console.csrf, "to_user_id": str(w["b"]),
                                                                "note": "请跟进"})
    assert resp.status_code == 302
    with app_db.read() as s:
        assert s.get(Conversation, w["conv_a"]).assignee_id == w["b"]
        assert s.exec(select(ConversationTransfer)).one().by_user_id == w["a"]
    resp = console.post(f"/chat/{w['conv_a']}/follow-up", data={"csrf_token": console.csrf, "content": "聊了价格"},
                        follow_redirects=True)
    assert "跟进记录已保存" in resp.get_data(as_text=True)
    with app_db.read() as s:
        assert s.exec(select(FollowUp)).one().content == "聊了价格"
    resp = console.post(f"/chat/{w['conv_a']}/task", data={"csrf_token": console.csrf, "title": ""}, follow_redirects=True)
    assert "请填写任务标题" in resp.get_data(as_text=True)
    assert console.post(f"/chat/{w['conv_b']}/task", data={"csrf_token": console.csrf, "title": "x"}).status_code == 404


def test_the_live_stream_and_its_limit_and_the_poll(app, console, w):
    app.extensions["ckb"].services.settings.chat_stream_limit = 1
    app.extensions.pop("ckb_chat_live", None)
    sse = {"Accept": "text/event-stream"}
    assert console.get("/chat/stream").status_code == 406
    first = console.get("/chat/stream", buffered=False, headers=sse)
    assert first.status_code == 200 and first.mimetype == "text/event-stream"
    assert next(first.response).decode().startswith("retry: 1000")
    second = console.get("/chat/stream", headers=sse)
    assert second.status_code == 429
    first.close()
    seq = console.get("/chat/events").get_json()["seq"]
    assert console.get("/chat/events?after=999999").get_json()["events"] == [{"type": "reset"}]  # across a restart
    from tests.conversations.chat_world import report
    report(app.extensions["ckb"].services.db, w["acc_a"], {"from_wxid": "wx_f1", "text": "13912345678 打给我", "msg_id": "live9"})
    report(app.extensions["ckb"].services.db, w["acc_b"], {"from_wxid": "wx_f9", "text": "乙的新消息", "msg_id": "live10"})
    import time
    events = []
    for _ in range(50):
        events += console.get(f"/chat/events?after={seq}").get_json()["events"]
        if events:
            break
        time.sleep(0.1)
    texts = [e["message"]["text"] for e in events if e["type"] == "message"]
    assert texts == ["139****5678 打给我"]  # masked for a 业务员, and B's message is not theirs


def test_api_lists_reads_sends_and_transfers_in_scope(app, app_db, w):
    token = people.create_token(app_db, "sales_a", "chat")
    c = app.test_client()
    h = {"Authorization": f"Bearer {token}"}
    items = c.get("/api/v1/conversations?show=unreplied", headers=h).get_json()["items"]
    assert {i["id"] for i in items} == {w["conv_a"], w["conv_a2"], w["group_a"]}
    assert c.get("/api/v1/conversations?show=bogus", headers=h).status_code == 400
    assert c.get(f"/api/v1/conversations/{w['conv_b']}/messages", headers=h).status_code == 404
    sent = c.post(f"/api/v1/conversations/{w['conv_a']}/messages", headers=h, json={"text": "好的", "client_key": "apikey-0001"})
    assert sent.status_code == 201 and sent.get_json()["status"] == "queued"
    assert c.post(f"/api/v1/conversations/{w['conv_a']}/messages", headers=h, json={"txt": "x"}).status_code == 422
    assert c.post(f"/api/v1/conversations/{w['conv_b']}/messages", headers=h, json={"text": "x"}).status_code == 404
    moved = c.post(f"/api/v1/conversations/{w['conv_a']}/transfer", headers=h, json={"to_user_id": w["b"]})
    assert moved.status_code == 200 and moved.get_json()["assignee_id"] == w["b"]
    assert c.post(f"/api/v1/conversations/{w['conv_b']}/transfer", headers=h, json={"to_user_id": w["a"]}).status_code == 404
    with app_db.read() as s:
        assert len(s.exec(select(ChatMessage).where(ChatMessage.direction == "out")).all()) == 1
    spec = c.get("/api/v1/openapi.json").get_json()
    assert "/api/v1/conversations/{conversation_id}/messages" in json.dumps(spec["paths"])
