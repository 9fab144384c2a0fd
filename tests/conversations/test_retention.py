"""消息保留期: the nightly job deletes messages older than CKB_CHAT_RETENTION_DAYS in bounded batches,
their search index rows with them; conversations keep their summary; 0 keeps everything."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select as sa_select, text

from conversations.models import ChatMessage, Conversation
from conversations.retention import purge_old_messages, retention_job
from conversations.search import search_messages
from conversations.store import NewMessage, record_message
from crm.scope import SYSTEM
from engine.crm_wiring import all_cron_jobs


def _store(db, clock, days_ago: int, n: int, body: str) -> None:
    with db.write() as s:
        for i in range(n):
            record_message(s, NewMessage(channel="wechat", account_id=1, kind="private", peer_id="wx_li",
                                         direction="in", text=body, external_id=f"{days_ago}-{i}",
                                         sent_at=clock.now() - timedelta(days=days_ago, minutes=i)), now=clock.now())


def _count(db) -> int:
    with db.read() as s:
        return s.execute(sa_select(func.count()).select_from(ChatMessage)).scalar_one()


def test_old_messages_go_in_batches_and_the_index_follows(db, clock, services):
    _store(db, clock, 400, 7, "去年的价格")
    _store(db, clock, 10, 3, "最近的价格")
    with db.read() as s:
        summary = s.exec(sa_select(Conversation)).scalar_one()
        last = (summary.last_message_text, summary.last_message_at)
    assert purge_old_messages(db, clock.now(), 365, batch=2) == 7
    assert _count(db) == 3
    with db.read() as s:
        assert {h.message.text for h in search_messages(s, SYSTEM, "价格").hits} == {"最近的价格"}
        assert search_messages(s, SYSTEM, "去年").hits == []
        conv = s.exec(sa_select(Conversation)).scalar_one()
        assert (conv.last_message_text, conv.last_message_at) == last
        if s.get_bind().dialect.name == "sqlite":  # the FTS rows went with their messages
            assert s.execute(text("SELECT count(*) FROM chat_message_search WHERE chat_message_search "
                                  "MATCH '\"去年\"'")).scalar_one() == 0
    clock.advance(days=360)  # the ManualClock moves the cutoff: now the "recent" ones are old too
    services.settings.chat_retention_days = 365
    assert retention_job(services) == "清理 365 天前的聊天消息 3 条"
    assert _count(db) == 0


def test_zero_keeps_everything_and_the_job_is_registered(db, clock, services):
    _store(db, clock, 4000, 2, "很久以前")
    services.settings.chat_retention_days = 0
    assert retention_job(services) == "消息保留期为永久，未清理"
    assert purge_old_messages(db, clock.now(), 0) == 0
    assert _count(db) == 2
    assert "chat_retention" in {j.key for j in all_cron_jobs(services.settings)}
