"""消息保留期: messages older than CKB_CHAT_RETENTION_DAYS (0 = keep forever) are deleted every night,
in batches of BATCH rows per transaction so the write lock is never held long and other writers
(the device gateway) interleave. The search index follows by itself (migration 0030's triggers on
SQLite, an expression index on PostgreSQL). Conversations are kept with their summary (last message
text and times, unread count): the list still shows who talked when."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Optional

from sqlalchemy import delete, select as sa_select

from conversations.models import ChatMessage

BATCH = 2000
MAX_BATCHES = 5000  # one night's run stops here (10 M rows); the next night goes on


def cutoff(now: datetime, days: int) -> Optional[datetime]:
    return None if days <= 0 else now - timedelta(days=days)


def purge_old_messages(db, now: datetime, days: int, batch: int = BATCH, max_batches: int = MAX_BATCHES) -> int:
    """Deletes messages sent before now - days, oldest ids first, one batch per transaction; returns
    how many. The candidate scan walks the primary key and stops at `batch` hits: old messages sit
    at low ids, so each batch is found quickly without an index on sent_at."""
    before = cutoff(now, days)
    if before is None:
        return 0
    removed = 0
    for _ in range(max_batches):
        with db.write() as s:
            ids = list(s.execute(sa_select(ChatMessage.id).where(ChatMessage.sent_at < before)
                                 .order_by(ChatMessage.id).limit(batch)).scalars())
            if ids:
                s.execute(delete(ChatMessage).where(ChatMessage.id.in_(ids)).execution_options(synchronize_session=False))
        removed += len(ids)
        if len(ids) < batch:
            break
    return removed


def retention_job(services) -> str:
    days = services.settings.chat_retention_days
    if days <= 0:
        return "消息保留期为永久，未清理"
    removed = purge_old_messages(services.db, services.now(), days)
    return f"清理 {days} 天前的聊天消息 {removed} 条"


CRON_SPECS = [("chat_retention", "清理过期聊天消息", {"hour": 4, "minute": 20}, retention_job)]
