"""KOC tasks and how each is found done in the group's own messages:

- 发起话题 (topic): a message by the KOC in the group (containing the keyword, at least min_chars long)
  followed by at least min_replies messages from other members;
- 组织活动 (activity): such a message followed by at least min_replies *distinct* members speaking;
- 发起打卡 (checkin): a check-in the KOC started in the group, with at least min_replies members
  checked in since the task was given.

Only what happened between the task's creation and its due time counts. Anything else (an offline
event, a message the phone never reported) is marked done by hand, with who did it."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import func, or_
from sqlmodel import Session, select

from community.errors import CommunityError, CommunityNotFound
from community.koc.models import TASK_KINDS, Koc, KocCheckin, KocGroup, KocTask
from config.clock import as_utc, format_local
from conversations.models import ChatMessage, Conversation
from devices.models import CheckIn


def create(session: Session, koc: Koc, data: dict, *, operator_id: Optional[int], now: datetime) -> KocTask:
    errors = {}
    kind = str(data.get("kind") or "")
    if kind not in TASK_KINDS:
        errors["kind"] = "请选择任务类型"
    title = str(data.get("title") or "").strip()
    if not title:
        errors["title"] = "请填写任务标题"
    group_id = data.get("group_id")
    led = set(session.exec(select(KocGroup.group_id).where(KocGroup.koc_id == koc.id)))
    if not group_id or int(group_id) not in led:
        errors["group_id"] = "请选择该 KOC 带领的群"
    due_at = data.get("due_at")
    if not isinstance(due_at, datetime):
        errors["due_at"] = "请填写截止时间"
    elif as_utc(due_at) <= now:
        errors["due_at"] = "截止时间应晚于现在"
    numbers = {}
    for name, label, low, high in (("min_chars", "话题最少字数", 0, 500), ("min_replies", "最少回复/参与人数", 0, 500)):
        try:
            numbers[name] = int(data.get(name) if data.get(name) not in (None, "") else (0 if name == "min_chars" else 3))
            if not low <= numbers[name] <= high:
                raise ValueError
        except (TypeError, ValueError):
            errors[name] = f"{label}应为 {low}–{high} 的整数"
    if errors:
        raise CommunityError(next(iter(errors.values())), errors)
    task = KocTask(koc_id=koc.id, group_id=int(group_id), kind=kind, title=title[:100],
                   note=str(data.get("note") or "")[:2000], keyword=str(data.get("keyword") or "").strip()[:50],
                   due_at=as_utc(due_at), created_by=operator_id, created_at=now, **numbers)
    session.add(task)
    session.flush()
    return task


def _conversation_ids(session: Session, group_id: int) -> list[int]:
    return list(session.exec(select(Conversation.id).where(Conversation.kind == "group", Conversation.group_id == group_id)))


def _opening_messages(session: Session, task: KocTask, koc: Koc, convs: list[int]) -> list[ChatMessage]:
    stmt = select(ChatMessage).where(ChatMessage.conversation_id.in_(convs), ChatMessage.sender_id == koc.wxid,
                                     ChatMessage.sent_at >= task.created_at, ChatMessage.sent_at <= task.due_at)
    if task.keyword:
        stmt = stmt.where(ChatMessage.text.contains(task.keyword))
    return [m for m in session.exec(stmt.order_by(ChatMessage.sent_at)) if len(m.text or "") >= task.min_chars]


def _after(session: Session, opening: ChatMessage, koc: Koc, until: datetime, distinct: bool) -> int:
    what = func.count(func.distinct(ChatMessage.sender_id)) if distinct else func.count()
    return session.exec(select(what).where(
        ChatMessage.conversation_id == opening.conversation_id,
        # after it: later, or stored after it within the same second (phones report whole seconds)
        or_(ChatMessage.sent_at > opening.sent_at, (ChatMessage.sent_at == opening.sent_at) & (ChatMessage.id > opening.id)),
        ChatMessage.sent_at <= until, ChatMessage.direction == "in", ChatMessage.sender_id != koc.wxid,
        ChatMessage.sender_id != "")).one()


def evidence(session: Session, task: KocTask, koc: Koc) -> Optional[str]:
    """Why the task is done, read from the group; None while it is not (yet)."""
    if task.kind == "checkin":
        started = session.exec(select(KocCheckin).where(
            KocCheckin.group_id == task.group_id, KocCheckin.started_at >= task.created_at,
            KocCheckin.started_at <= task.due_at).order_by(KocCheckin.started_at)).first()
        if started is None:
            return None
        members = session.exec(select(func.count(func.distinct(CheckIn.member_wxid))).where(
            CheckIn.group_id == task.group_id, CheckIn.created_at >= started.started_at,
            CheckIn.created_at <= task.due_at)).one()
        return f"已发起打卡「{started.keyword}」，{members} 人打卡" if members >= task.min_replies else None
    if not koc.wxid:
        return None
    convs = _conversation_ids(session, task.group_id)
    if not convs:
        return None
    distinct = task.kind == "activity"
    for opening in _opening_messages(session, task, koc, convs):
        n = _after(session, opening, koc, task.due_at, distinct)
        if n >= task.min_replies:
            unit = "人参与" if distinct else "条回复"
            return f"{format_local(opening.sent_at, '%m-%d %H:%M')} 发起「{(opening.text or '')[:30]}」，{n} {unit}"
    return None


def check(session: Session, now: datetime, koc_id: Optional[int] = None) -> dict:
    """Checks open tasks against the messages: done with the evidence, or 已逾期 after the due time."""
    stmt = select(KocTask, Koc).join(Koc, Koc.id == KocTask.koc_id).where(KocTask.status == "open")
    if koc_id:
        stmt = stmt.where(KocTask.koc_id == koc_id)
    out = {"done": 0, "expired": 0}
    for task, koc in session.exec(stmt).all():
        found = evidence(session, task, koc)
        if found:
            task.status, task.completed_at, task.evidence = "done", now, found[:300]
            out["done"] += 1
        elif as_utc(task.due_at) < now:
            task.status = "expired"
            out["expired"] += 1
        else:
            continue
        session.add(task)
    return out


def mark_done(session: Session, task_id: int, operator_id: int, note: str, now: datetime) -> KocTask:
    task = session.get(KocTask, task_id)
    if task is None:
        raise CommunityNotFound("任务不存在")
    if task.status == "done":
        raise CommunityError("任务已完成", {"task": "任务已完成"})
    task.status, task.completed_at, task.completed_by = "done", now, operator_id
    task.evidence = (f"人工确认：{note.strip()}" if (note or "").strip() else "人工确认完成")[:300]
    session.add(task)
    return task


def list_for(session: Session, koc_id: Optional[int] = None, limit: int = 200) -> list[KocTask]:
    stmt = select(KocTask)
    if koc_id:
        stmt = stmt.where(KocTask.koc_id == koc_id)
    return list(session.exec(stmt.order_by(KocTask.id.desc()).limit(limit)))


def check_job(services) -> str:
    """The cron job (every 10 minutes): open tasks checked against the latest messages."""
    with services.db.write() as s:
        out = check(s, services.now())
    return f"KOC 任务：完成 {out['done']} 个，逾期 {out['expired']} 个"
