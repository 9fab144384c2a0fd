"""消息搜索: two-character Chinese words (the common case the bigram index exists for), longer words,
link titles, one character, filters, paging, the 业务员 scope, and the index following edits and
deletions (triggers on SQLite, an expression index on PostgreSQL)."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import delete, update

from config.clock import UTC
from conversations.errors import ConversationError
from conversations.models import ChatMessage, Conversation
from conversations.search import MessageFilter, search_messages, snippet
from conversations.store import NewMessage, record_message
from crm.scope import SYSTEM, Viewer
from devices.models import WechatAccount

ALL = Viewer(1, frozenset({"conversations.view", "conversations.view_all"}))
T0 = datetime(2026, 11, 18, 2, 0, tzinfo=UTC)


@pytest.fixture
def world(db):
    with db.write() as s:
        mine = WechatAccount(wxid="wx_mine", nickname="小美", owner_user_id=10)
        other = WechatAccount(wxid="wx_other", nickname="小丽", owner_user_id=20)
        s.add_all([mine, other])
        s.flush()
        texts = [(mine.id, "wx_li", "in", "请问价格多少？"), (mine.id, "wx_li", "out", "这款价格是 199 元，包邮"),
                 (mine.id, "wx_wang", "in", "什么时候发货呀"), (other.id, "wx_zhao", "in", "价格能便宜点吗"),
                 (other.id, "wx_zhao", "in", "Hello 我想退款"), (mine.id, "wx_wang", "in", "好")]
        for n, (account_id, peer, direction, body) in enumerate(texts):
            record_message(s, NewMessage(channel="wechat", account_id=account_id, kind="private", peer_id=peer,
                                         direction=direction, text=body, external_id=f"m{n}",
                                         sent_at=T0 + timedelta(hours=n)), now=T0)
        record_message(s, NewMessage(channel="wechat", account_id=mine.id, kind="private", peer_id="wx_li",
                                     direction="out", msg_type="link", text="", external_id="link1",
                                     payload={"url": "https://x.example/a", "title": "双十一会员专享价格表"},
                                     sent_at=T0 + timedelta(hours=7)), now=T0)
        return {"mine": mine.id, "other": other.id}


def _texts(page):
    return sorted(h.message.text or h.message.payload.get("title") for h in page.hits)


def test_two_character_chinese_words_are_found(db, world):
    with db.read() as s:
        page = search_messages(s, ALL, "价格")
        assert _texts(page) == ["价格能便宜点吗", "双十一会员专享价格表", "请问价格多少？", "这款价格是 199 元，包邮"]
        assert page.total == 4 and not page.has_more
        assert _texts(search_messages(s, ALL, "发货")) == ["什么时候发货呀"]
        assert _texts(search_messages(s, ALL, "格多")) == ["请问价格多少？"]
        assert _texts(search_messages(s, ALL, "多价")) == []  # both characters occur, never side by side


def test_longer_words_ascii_case_and_one_character(db, world):
    with db.read() as s:
        assert _texts(search_messages(s, ALL, "价格多少")) == ["请问价格多少？"]
        assert _texts(search_messages(s, ALL, "hello 我想")) == ["Hello 我想退款"]
        assert _texts(search_messages(s, ALL, "199 元")) == ["这款价格是 199 元，包邮"]
        assert _texts(search_messages(s, ALL, "好")) == ["好"]
        assert _texts(search_messages(s, ALL, "50%")) == []  # LIKE wildcards are literal
        with pytest.raises(ConversationError):
            search_messages(s, ALL, "   ")


def test_filters_and_paging(db, world):
    with db.read() as s:
        assert _texts(search_messages(s, ALL, "价格", MessageFilter(direction="out"))) == [
            "双十一会员专享价格表", "这款价格是 199 元，包邮"]
        assert _texts(search_messages(s, ALL, "价格", MessageFilter(account_id=world["other"]))) == ["价格能便宜点吗"]
        li = s.exec(Conversation.__table__.select().where(Conversation.peer_id == "wx_li")).first().id
        assert len(search_messages(s, ALL, "价格", MessageFilter(conversation_id=li)).hits) == 3
        # T0 is 10:00 Beijing on 11-18; the message at +14 h would be the 19th, none here is later than +7 h
        assert len(search_messages(s, ALL, "价格", MessageFilter(since=date(2026, 11, 19))).hits) == 0
        assert len(search_messages(s, ALL, "价格", MessageFilter(until=date(2026, 11, 18))).hits) == 4
        first = search_messages(s, ALL, "价格", per_page=3)
        second = search_messages(s, ALL, "价格", page=2, per_page=3)
        assert first.has_more and not second.has_more and len(second.hits) == 1
        ids = [h.message.id for h in first.hits + second.hits]
        assert ids == sorted(ids, reverse=True) and len(set(ids)) == 4
        with pytest.raises(ConversationError):
            search_messages(s, ALL, "价格", MessageFilter(direction="sideways"))


def test_a_salesperson_finds_only_their_accounts_and_transfers(db, world):
    sales = Viewer(10, frozenset({"conversations.view"}))
    with db.read() as s:
        assert _texts(search_messages(s, sales, "价格")) == ["双十一会员专享价格表", "请问价格多少？", "这款价格是 199 元，包邮"]
        assert search_messages(s, Viewer(30, frozenset({"conversations.view"})), "价格").hits == []
        assert search_messages(s, Viewer(10, frozenset()), "价格").hits == []
    with db.write() as s:
        s.execute(update(Conversation).where(Conversation.peer_id == "wx_zhao").values(assignee_id=30))
    with db.read() as s:
        assert _texts(search_messages(s, Viewer(30, frozenset({"conversations.view"})), "价格")) == ["价格能便宜点吗"]
        assert len(search_messages(s, SYSTEM, "价格").hits) == 4


def test_the_index_follows_edits_and_deletions(db, world):
    with db.write() as s:
        s.execute(update(ChatMessage).where(ChatMessage.external_id == "m2").values(text="已经退款了"))
        s.execute(delete(ChatMessage).where(ChatMessage.external_id == "m0"))
    with db.read() as s:
        assert _texts(search_messages(s, ALL, "发货")) == []
        assert _texts(search_messages(s, ALL, "退款")) == ["Hello 我想退款", "已经退款了"]
        assert "请问价格多少？" not in _texts(search_messages(s, ALL, "价格"))


def test_snippet_marks_every_match_in_its_window():
    pieces = snippet("前面很长很长的一段话" * 5 + "价格价格然后", "价格")
    assert pieces[0] == ("…", False) and [p for p, hit in pieces if hit] == ["价格", "价格"]
    assert snippet("Hello", "hello") == [("Hello", True)]


def test_a_wide_scope_goes_through_the_index_with_the_same_answer(db, world, monkeypatch):
    """Above SCAN_LIMIT messages in scope the text index drives the query; the answer is the same."""
    import conversations.search as search_module

    sales = Viewer(10, frozenset({"conversations.view"}))
    with db.read() as s:
        narrow = _texts(search_messages(s, sales, "价格"))
        monkeypatch.setattr(search_module, "SCAN_LIMIT", 0)
        assert _texts(search_messages(s, sales, "价格")) == narrow
        assert _texts(search_messages(s, ALL, "价格", MessageFilter(account_id=world["other"]))) == ["价格能便宜点吗"]
