"""Running a 群发: resolve its recipients once, then plan every send in small write transactions.

Each recipient's send goes through conversations.outbound.send (so issue_command and the risk
budget) inside devices.budget_plan.write_with_budget, with the idempotency key
broadcast:{id}:{friend_id}: the recipient row, the device command and the stored message commit
together, so a run killed at any point (kill -9 included) resumes on the next run with the
recipients still 待发送 — nobody is sent twice, nobody dropped.

Pacing (运营规范 §4.3): on each account the sends of one 群发 are spaced by a random gap within the
群发's window (scene default, e.g. 活动通知 3–8 s), on top of the budget's own pacing: the command's
not_before is max(the budget's slot, the previous send of this 群发 on the account + gap), and a
time falling in the configured quiet hours moves to their end. The gateway delivers each command
when its time comes. Frequency guard: a friend who got CKB_BROADCAST_WEEKLY_LIMIT 群发 in the last
7 days is skipped with that reason.

`refresh` reads the present state of each planned send back from its command (排队中 → 已送达, or
延后 / 发送失败 with the phone's or the budget's reason) and closes the 群发 when all have settled."""
from __future__ import annotations

import logging
import random
import time
from datetime import datetime, timedelta
from typing import Optional

from sqlalchemy import func
from sqlmodel import Session, col, select

from config.clock import as_utc
from conversations import outbound
from conversations.broadcast.content import content_for
from conversations.broadcast.models import Broadcast, BroadcastRecipient
from conversations.broadcast.service import creator_viewer
from conversations.broadcast.targets import recipients as target_friends
from conversations.errors import ConversationError
from conversations.quick_replies.access import own_accounts
from conversations.quick_replies.rendering import conversation_values
from conversations.quick_replies.service import count_use
from conversations.store import NewMessage, conversation_for
from devices.budget import quiet_until
from devices.budget_plan import write_with_budget
from devices.models import DeviceCommand, Friend

log = logging.getLogger("ckb.broadcast")
CHUNK = 50  # sends planned per write transaction
INLINE_SECONDS = 10.0  # how long a request plans a 立即发送 before leaving the rest to the scheduler
GUARD_DAYS = 7
COUNTED = ("queued", "deferred", "sent")  # what the weekly guard counts (a failed send never arrived)
# outbound message state → recipient state
# codes a phone names a failed send with (PROTOCOL.md result frames) → what the report says
PHONE_CODES = {"friend_deleted": "对方已删除好友", "account_not_on_device": "手机上没有该微信号"}
STATES = {"queued": "queued", "deferred": "deferred", "sent": "sent", "failed": "failed", "refused": "failed"}


def idempotency_key(broadcast_id: int, friend_id: int) -> str:
    return f"broadcast:{broadcast_id}:{friend_id}"


def weekly_limit(settings) -> int:
    return int(getattr(settings, "broadcast_weekly_limit", 2) or 0)


def due_ids(session: Session, now: datetime) -> list[int]:
    """群发 to start (scheduled, time come) or to resume (running: planning was interrupted)."""
    rows = session.exec(select(Broadcast.id, Broadcast.status, Broadcast.scheduled_at).where(
        col(Broadcast.status).in_(("scheduled", "running"))).order_by(Broadcast.scheduled_at, Broadcast.id)).all()
    return [bid for bid, status, at in rows if status == "running" or as_utc(at) <= as_utc(now)]


def _start(session: Session, broadcast_id: int, now: datetime, tz: Optional[str]) -> bool:
    """Opens the 群发 and resolves its recipients once; False when there is nothing to plan."""
    row = session.get(Broadcast, broadcast_id)
    if row is None or row.status not in ("scheduled", "running"):
        return False
    if row.status == "scheduled":
        if as_utc(row.scheduled_at) > now:
            return False
        row.status, row.started_at = "running", now
    exists = session.exec(select(BroadcastRecipient.id).where(BroadcastRecipient.broadcast_id == row.id).limit(1)).first()
    if exists is None:
        viewer = creator_viewer(session, row)
        friends = target_friends(session, row.target or {}, own_accounts(viewer), now, tz)
        for friend in friends:
            session.add(BroadcastRecipient(broadcast_id=row.id, friend_id=friend.id, account_id=friend.account_id,
                                           wxid=friend.wxid, nickname=(friend.remark or friend.nickname)[:100],
                                           customer_id=friend.customer_id, updated_at=now))
        row.recipient_count = len(friends)
        if not friends:
            row.status, row.finished_at, row.planned_at = "done", now, now
            row.reason = "没有符合条件的好友"
    session.add(row)
    session.flush()
    return row.status == "running"


def _last_due(session: Session, broadcast_id: int) -> dict[int, datetime]:
    rows = session.exec(select(BroadcastRecipient.account_id, func.max(BroadcastRecipient.due_at)).where(
        BroadcastRecipient.broadcast_id == broadcast_id, col(BroadcastRecipient.due_at).is_not(None))
        .group_by(BroadcastRecipient.account_id)).all()
    return {account: as_utc(at) for account, at in rows if at is not None}


def _recent(session: Session, broadcast_id: int, friend_ids: list[int], now: datetime) -> dict[int, int]:
    since = now - timedelta(days=GUARD_DAYS)
    rows = session.exec(select(BroadcastRecipient.friend_id, func.count()).where(
        col(BroadcastRecipient.friend_id).in_(friend_ids), BroadcastRecipient.broadcast_id != broadcast_id,
        col(BroadcastRecipient.status).in_(COUNTED), BroadcastRecipient.planned_at >= since)
        .group_by(BroadcastRecipient.friend_id)).all()
    return {fid: int(n) for fid, n in rows}


def _finish(rec: BroadcastRecipient, status: str, reason: str, now: datetime) -> None:
    rec.status, rec.reason, rec.updated_at = status, reason[:500], now


def _plan_one(session: Session, row: Broadcast, rec: BroadcastRecipient, friend: Optional[Friend], last: dict,
              recent: dict, limit: int, settings, now: datetime) -> None:
    if friend is None or friend.deleted_at is not None:
        return _finish(rec, "skipped", "好友已删除或已不在该微信号", now)
    if limit and recent.get(friend.id, 0) >= limit:
        return _finish(rec, "skipped", f"频率保护：近 {GUARD_DAYS} 天已收到 {recent[friend.id]} 次群发（上限 {limit} 次）", now)
    conversation = conversation_for(session, NewMessage(
        channel="wechat", account_id=friend.account_id, kind="private", peer_id=friend.wxid, direction="out",
        friend_id=friend.id, customer_id=friend.customer_id, title=friend.remark or friend.nickname), now)
    try:
        content, reply_id = content_for(session, row.content or {}, conversation_values(session, conversation))
    except ConversationError as exc:
        return _finish(rec, "failed", exc.message, now)
    # Same gap on every pass of write_with_budget and on a resumed run: seeded by the recipient.
    gap = random.Random(f"{row.id}:{rec.id}").uniform(row.gap_min_seconds, row.gap_max_seconds)
    due = max(now, last[friend.account_id] + timedelta(seconds=gap)) if friend.account_id in last else now
    quiet = quiet_until(due, settings)
    if quiet is not None:
        due = quiet[0]
    try:
        message = outbound.send(session, conversation, content, source="system",
                                idempotency_key=idempotency_key(row.id, friend.id),
                                extra_payload={"broadcast_id": row.id}, sender_name="消息群发", now=now,
                                settings=settings)
    except ConversationError as exc:
        return _finish(rec, "failed", exc.message, now)
    command = session.get(DeviceCommand, message.command_id) if message.command_id else None
    if command is not None and command.status == "queued":
        command.not_before = max(as_utc(command.not_before) if command.not_before else now, due)
        session.add(command)
        due = command.not_before
    state, reason = outbound.message_state(message, command)
    _finish(rec, STATES.get(state, "queued"), reason, now)
    rec.command_id, rec.message_id, rec.planned_at, rec.due_at = message.command_id, message.id, now, due
    if state in ("queued", "sent"):
        last[friend.account_id] = due
    if reply_id is not None:
        count_use(session, reply_id, now=now)


def _plan_chunk(session: Session, broadcast_id: int, ids: list[int], settings, now: datetime) -> int:
    row = session.get(Broadcast, broadcast_id)
    if row is None or row.status != "running":
        return 0
    recs = [r for r in session.exec(select(BroadcastRecipient).where(col(BroadcastRecipient.id).in_(ids))
                                    .order_by(BroadcastRecipient.id)) if r.status == "pending"]
    friends = {f.id: f for f in session.exec(select(Friend).where(col(Friend.id).in_([r.friend_id for r in recs])))}
    last = _last_due(session, row.id)
    recent = _recent(session, row.id, list(friends), now)
    limit = weekly_limit(settings)
    for rec in recs:
        _plan_one(session, row, rec, friends.get(rec.friend_id), last, recent, limit, settings, now)
        session.add(rec)
    session.flush()
    return len(recs)


def run(services, broadcast_id: int, max_seconds: Optional[float] = None) -> bool:
    """Plans what is left of one 群发; True when it was due (started or resumed). With `max_seconds`
    (a console or API request planning a 立即发送) it stops after that long, still 发送中: the
    scheduler's next minute resumes it where it stopped."""
    started = time.monotonic()
    now, tz = as_utc(services.now()), services.settings.timezone
    with services.db.write() as s:
        if not _start(s, broadcast_id, now, tz):
            return False
    while True:
        with services.db.read() as s:
            ids = list(s.exec(select(BroadcastRecipient.id).where(
                BroadcastRecipient.broadcast_id == broadcast_id, BroadcastRecipient.status == "pending")
                .order_by(BroadcastRecipient.id).limit(CHUNK)))
            status = s.get(Broadcast, broadcast_id).status
        if not ids or status != "running":
            break
        now = as_utc(services.now())
        planned = write_with_budget(services.db, lambda s: _plan_chunk(s, broadcast_id, ids, services.settings, now),
                                    settings=services.settings, redis=services.redis, now=now)
        if not planned:
            break
        if max_seconds is not None and time.monotonic() - started > max_seconds:
            return True
    with services.db.write() as s:
        row = s.get(Broadcast, broadcast_id)
        if row is not None and row.status == "running":
            row.status, row.planned_at = "sending", as_utc(services.now())
            s.add(row)
        refresh(s, broadcast_id, as_utc(services.now()))
    return True


def refresh(session: Session, broadcast_id: int, now: datetime) -> None:
    """Recipient states follow their commands; a 群发 whose sends have all settled is 已完成."""
    row = session.get(Broadcast, broadcast_id)
    if row is None:
        return
    open_recs = list(session.exec(select(BroadcastRecipient).where(
        BroadcastRecipient.broadcast_id == broadcast_id, col(BroadcastRecipient.status).in_(("queued", "deferred")))))
    commands = {c.id: c for c in session.exec(select(DeviceCommand).where(
        col(DeviceCommand.id).in_([r.command_id for r in open_recs if r.command_id])))} if open_recs else {}
    for rec in open_recs:
        command = commands.get(rec.command_id)
        if command is None:
            continue
        state = outbound.COMMAND_STATES.get(command.status, "queued")
        reason = (command.error if state == "failed" else command.reason) or ""
        code = (command.result or {}).get("code") if isinstance(command.result, dict) else None
        if state == "failed" and code:  # the phone's named reason, e.g. friend_deleted
            reason = f"{PHONE_CODES.get(code, '手机返回失败')}（{code}）" + (f"：{reason}" if reason else "")
        if command.status == "cancelled":
            state, reason = "failed", command.reason or "指令已取消"
        new = STATES.get(state, "queued")
        if (new, reason[:500]) != (rec.status, rec.reason):
            _finish(rec, new, reason, now)
            session.add(rec)
    if row.status == "sending":
        left = session.exec(select(func.count()).where(
            BroadcastRecipient.broadcast_id == broadcast_id,
            col(BroadcastRecipient.status).in_(("pending", "queued", "deferred")))).one()
        if not left:
            row.status, row.finished_at = "done", now
            session.add(row)
    session.flush()


def refresh_open(services) -> int:
    """Refreshes every 群发 still delivering; returns how many."""
    with services.db.read() as s:
        ids = list(s.exec(select(Broadcast.id).where(Broadcast.status == "sending")))
    for bid in ids:
        with services.db.write() as s:
            refresh(s, bid, as_utc(services.now()))
    return len(ids)


def run_due(services) -> str:
    """The cron job: start or resume due 群发, then refresh the ones delivering."""
    with services.db.read() as s:
        ids = due_ids(s, as_utc(services.now()))
    started = [bid for bid in ids if run(services, bid)]
    refreshed = refresh_open(services)
    return f"群发：启动或续发 {len(started)} 个，更新投递状态 {refreshed} 个"
