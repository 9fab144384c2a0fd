"""触客宝 services: scope (another's conversation is not found), list filters, thread paging, send
through the risk budget (once per client key, deferred with its reason), transfer, the portrait."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from config.clock import utcnow
from conversations import chat_list, chat_send, chat_thread, portrait, transfer
from conversations.chat_models import ConversationTransfer
from conversations.errors import ConversationError, ConversationNotFound
from conversations.models import ChatMessage, Conversation
from crm.people.models import Notification
from crm.sales.models import FollowUp, Task
from crm.tags.models import CustomerTag, Tag, TagCategory
from devices.models import DeviceCommand, Friend
from tests.conversations.chat_world import build, report, viewer


@pytest.fixture
def w(db):
    return build(db)


def _tag(db, name: str) -> int:
    with db.write() as s:
        cat = TagCategory(name=f"{name}分类")
        s.add(cat)
        s.flush()
        tag = Tag(category_id=cat.id, name=name)
        s.add(tag)
        s.flush()
        return tag.id


def _ids(rows):
    return {r["id"] for r in rows}


def test_a_salesperson_sees_their_accounts_and_transfers_only(db, w):
    a = viewer(w["a"])
    with db.read() as s:
        assert _ids(chat_list.list_conversations(s, a, chat_list.ListFilter())) == {w["conv_a"], w["conv_a2"], w["group_a"]}
        with pytest.raises(ConversationNotFound):
            chat_thread.thread(s, a, w["conv_b"])
        with pytest.raises(ConversationNotFound):
            chat_thread.thread(s, a, "x")
        everyone = viewer(w["a"], ("conversations.view_all",))
        assert w["conv_b"] in _ids(chat_list.list_conversations(s, everyone, chat_list.ListFilter()))
    with db.write() as s:
        s.get(Conversation, w["conv_b"]).assignee_id = w["a"]
    with db.read() as s:
        assert w["conv_b"] in _ids(chat_list.list_conversations(s, a, chat_list.ListFilter()))


def test_list_filters_unread_unreplied_mine_tag_account_channel_and_title(db, w):
    a = viewer(w["a"])
    tag_id = _tag(db, "意向客户")
    with db.write() as s:
        s.add(CustomerTag(customer_id=w["cust_a"], tag_id=tag_id))
    report(db, w["acc_a"], {"direction": "out", "to_wxid": "wx_f2", "text": "在的", "msg_id": "o1"}, utcnow(), "r9")

    def ids(**kw):
        with db.read() as s:
            return _ids(chat_list.list_conversations(s, a, chat_list.ListFilter(**kw)))

    assert ids(show="unreplied") == {w["conv_a"], w["group_a"]}  # wx_f2 was answered
    assert ids(show="mine") == {w["conv_a"]}
    assert ids(tag_id=tag_id) == {w["conv_a"]}
    assert ids(account_id=w["acc_b"]) == set()
    assert ids(channel="mp") == set()
    assert ids(q="陈") == {w["conv_a"]}
    assert ids(q="%") == set()
    with db.read() as s:
        row = next(r for r in chat_list.list_conversations(s, a, chat_list.ListFilter()) if r["id"] == w["conv_a"])
        assert row["tags"] == ["意向客户"] and row["unread_count"] == 1 and row["last_message_text"] == "价格多少"
        assert chat_list.unread_total(s, a) == 3
    with db.write() as s:
        chat_thread.mark_read(s, a, w["conv_a"])
    assert w["conv_a"] not in ids(show="unread")


def test_the_customer_of_another_salesperson_shows_no_tags_or_id(db, w):
    with db.write() as s:  # A's account has a friend linked to B's customer
        s.add(Friend(account_id=w["acc_a"], wxid="wx_f7", nickname="共享", customer_id=w["cust_b"]))
    conv, _ = report(db, w["acc_a"], {"from_wxid": "wx_f7", "text": "hi", "msg_id": "x7"}, utcnow(), "r7")
    with db.read() as s:
        row = next(r for r in chat_list.list_conversations(s, viewer(w["a"]), chat_list.ListFilter()) if r["id"] == conv)
        assert row["customer_id"] is None and row["tags"] == []
        panel = portrait.portrait(s, viewer(w["a"]), conv)
        assert panel["customer"] is None and panel["hidden_customer"] is True


def test_thread_pages_back_with_before(db, w):
    base = utcnow() - timedelta(hours=1)
    for i in range(45):
        report(db, w["acc_a"], {"from_wxid": "wx_f1", "text": f"第{i}条", "msg_id": f"p{i}"}, base + timedelta(seconds=i), f"p{i}")
    with db.read() as s:
        _c, newest = chat_thread.thread(s, viewer(w["a"]), w["conv_a"])
        assert len(newest) == 30 and newest[-1]["text"] == "价格多少" and newest[0]["text"] == "第16条"
        _c, older = chat_thread.thread(s, viewer(w["a"]), w["conv_a"], before=newest[0]["id"])
        assert [m["text"] for m in older] == [f"第{i}条" for i in range(16)]
        assert chat_thread.thread(s, viewer(w["a"]), w["conv_a"], before=10**9)[1] == []


def _send(db, w, data, conv=None, user=None):
    with db.write() as s:
        return chat_send.send_in_conversation(s, viewer(user or w["a"]), conv or w["conv_a"], data,
                                              user_id=user or w["a"], sender_name="业务员甲")


def test_send_goes_through_the_budget_once_per_client_key_and_defers_with_reason(db, w):
    first = _send(db, w, {"text": "您好，199 元", "client_key": "key-000001"})
    again = _send(db, w, {"text": "您好，199 元", "client_key": "key-000001"})
    assert again.id == first.id
    second = _send(db, w, {"text": "还有优惠", "client_key": "key-000002"})
    with db.read() as s:
        assert len(s.exec(select(ChatMessage).where(ChatMessage.direction == "out")).all()) == 2
        commands = s.exec(select(DeviceCommand).order_by(DeviceCommand.id)).all()
        assert [c.kind for c in commands] == ["send_text", "send_text"]
        assert commands[0].payload == {"to": "wx_f1", "text": "您好，199 元"}
        shown = chat_thread.load_messages(s, [second.id])[0]
        conv = s.get(Conversation, w["conv_a"])
    assert first.status == "queued" and first.user_id == w["a"]
    assert shown["status"] == "deferred" and shown["status_label"] == "已延后" and shown["reason"]
    assert conv.last_direction == "out" and conv.last_outbound_at is not None


@pytest.mark.parametrize("data, field", [
    ({"text": "  "}, "text"), ({"kind": "voice"}, "kind"), ({"kind": "link", "url": "ftp://x", "title": "t"}, "url"),
    ({"kind": "link", "url": "https://a.cn"}, "title"), ({"kind": "image", "material_id": "99"}, "material_id"),
    ({"kind": "miniprogram", "appid": "bad"}, "appid"), ({"kind": "content", "content_item_id": "x"}, "content_item_id"),
    ({"text": "x" * 2001}, "text"), ({"text": "hi", "client_key": "短"}, "client_key"),
    ({"text": "hi", "at_wxids": ["wx_f1"]}, "at_wxids")])
def test_bad_content_is_refused_naming_the_field_and_writes_nothing(db, w, data, field):
    with pytest.raises(ConversationError) as err:
        _send(db, w, data)
    assert field in err.value.errors
    with db.read() as s:
        assert s.exec(select(DeviceCommand)).all() == [] and s.exec(select(ChatMessage).where(ChatMessage.direction == "out")).all() == []


def test_group_at_members_and_link_and_content_item(db, w):
    from devices.models import ContentItem
    with pytest.raises(ConversationError):
        _send(db, w, {"text": "hi", "at_wxids": ["wx_stranger"]}, conv=w["group_a"])
    msg = _send(db, w, {"text": "@陈女士 看群公告", "at_wxids": "wx_f1"}, conv=w["group_a"])
    with db.write() as s:
        item = ContentItem(kind="link", title="新品", link={"url": "https://shop.example/1", "title": "新品上架", "desc": "限时"})
        s.add(item)
        s.flush()
        item_id = item.id
    linked = _send(db, w, {"kind": "content", "content_item_id": str(item_id), "client_key": "key-000003"})
    with db.read() as s:
        cmds = {c.id: c for c in s.exec(select(DeviceCommand))}
    assert cmds[msg.command_id].payload == {"to": "room@chatroom", "text": "@陈女士 看群公告", "at_wxids": ["wx_f1"]}
    assert cmds[linked.command_id].kind == "send_link"
    assert cmds[linked.command_id].payload["url"] == "https://shop.example/1"
    assert linked.payload["content_item_id"] == item_id


def test_a_send_to_a_friend_who_deleted_us_reads_as_such(db, w):
    msg = _send(db, w, {"text": "在吗"})
    with db.write() as s:
        cmd = s.get(DeviceCommand, msg.command_id)
        cmd.status, cmd.error, cmd.result = "failed", "对方开启了朋友验证", {"code": "friend_deleted"}
    with db.read() as s:
        shown = chat_thread.load_messages(s, [msg.id])[0]
    assert shown["status_label"] == "发送失败" and shown["reason"] == "对方已删除好友（对方开启了朋友验证）"


def test_transfer_logs_and_notifies_and_checks_the_colleague(db, w):
    a = viewer(w["a"])
    with db.write() as s, pytest.raises(ConversationError):
        transfer.transfer(s, a, w["conv_a"], 999, colleagues=[w["b"]])
    with db.write() as s, pytest.raises(ConversationNotFound):
        transfer.transfer(s, a, w["conv_b"], w["a"], colleagues=[w["a"], w["b"]])
    with db.write() as s:
        transfer.transfer(s, a, w["conv_a"], w["b"], colleagues=[w["a"], w["b"]], note="售后问题")
    with db.read() as s:
        assert s.get(Conversation, w["conv_a"]).assignee_id == w["b"]
        log = s.exec(select(ConversationTransfer)).one()
        assert (log.by_user_id, log.to_user_id, log.note) == (w["a"], w["b"], "售后问题")
        note = s.exec(select(Notification).where(Notification.user_id == w["b"])).one()
        assert note.link == f"/chat?conversation={w['conv_a']}" and "业务员甲" in note.title
        # B now sees it
        assert w["conv_a"] in _ids(chat_list.list_conversations(s, viewer(w["b"]), chat_list.ListFilter()))
        assert transfer.history(s, s.get(Conversation, w["conv_a"]))[0]["to"] == "业务员乙"


def test_portrait_actions_go_through_crm_with_scope(db, w):
    a = viewer(w["a"], ("tags.apply", "worktasks.manage"))
    tag_id = _tag(db, "已报价")
    with db.write() as s:
        portrait.tag(s, a, w["conv_a"], [str(tag_id)])
        portrait.follow_up(s, a, w["conv_a"], {"content": "报了 199 元"})
        portrait.new_task(s, a, w["conv_a"], {"title": "明天回访"})
    with db.read() as s:
        assert s.exec(select(CustomerTag).where(CustomerTag.customer_id == w["cust_a"])).one().tag_id == tag_id
        assert s.exec(select(FollowUp)).one().way == "wechat"
        task = s.exec(select(Task)).one()
        assert (task.customer_id, task.owner_id) == (w["cust_a"], w["a"])
        panel = portrait.portrait(s, a, w["conv_a"])
        assert [t["name"] for t in panel["customer"]["tags"]] == ["已报价"] and panel["tasks"][0].title == "明天回访"
    # an unlinked friend: actions are refused until linked; B's customer can't be linked by A
    with db.write() as s, pytest.raises(ConversationError):
        portrait.follow_up(s, a, w["conv_a2"], {"content": "x"})
    with db.write() as s, pytest.raises(ConversationError):
        portrait.link_customer(s, a, w["conv_a2"], w["cust_b"])
    with db.write() as s:
        portrait.link_customer(s, a, w["conv_a2"], w["cust_a"])
    with db.read() as s:
        assert s.get(Conversation, w["conv_a2"]).customer_id == w["cust_a"]
        assert s.exec(select(Friend).where(Friend.wxid == "wx_f2")).one().customer_id == w["cust_a"]


def test_a_mp_conversation_is_listed_for_its_assignee_and_its_sender_error_is_shown(db, w):
    """公众号 (channel mp): part "mp" registers its sender; a closed 48 h window is its ConversationError."""
    from conversations import outbound
    from conversations.store import NewMessage, record_message

    with db.write() as s:
        msg, _ = record_message(s, NewMessage(channel="mp", account_id=1, kind="private", peer_id="openid-1",
                                              direction="in", text="你好", title="粉丝甲"))
        conv = s.get(Conversation, msg.conversation_id)
        conv.assignee_id = w["a"]
        conv_id = conv.id

    def closed_window(session, conversation, content, **_kw):
        raise ConversationError("已超过 48 小时客服消息窗口，无法回复", {"text": "客服消息窗口已关闭"})

    previous = outbound._senders.get("mp")
    outbound.register_sender("mp", closed_window)
    try:
        with db.read() as s:
            assert conv_id in _ids(chat_list.list_conversations(s, viewer(w["a"]), chat_list.ListFilter(channel="mp")))
        with pytest.raises(ConversationError) as err:
            _send(db, w, {"text": "在的"}, conv=conv_id)
        assert "48 小时" in err.value.message
    finally:
        if previous is None:
            outbound._senders.pop("mp", None)
        else:
            outbound.register_sender("mp", previous)
