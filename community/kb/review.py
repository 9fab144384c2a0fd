"""What staff do with the answers: mark each 已解决 / 未解决, see the 解决率 (the seed's bar is
≥ 70 %), and work through the 待人工 list of conversations the robot handed over."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import func, or_
from sqlmodel import Session, select

from community.errors import CommunityError, CommunityNotFound
from community.kb.models import RESOLUTIONS, KbAnswerLog, KbEntry
from conversations.models import Conversation
from devices.models import WechatAccount

TARGET_RATE = 70.0


def mark(session: Session, log_id: int, resolution: str, user_id: int, now: datetime) -> KbAnswerLog:
    if resolution not in RESOLUTIONS or not resolution:
        raise CommunityError("评价只能是已解决或未解决", {"resolution": "评价只能是已解决或未解决"})
    row = session.get(KbAnswerLog, log_id)
    if row is None:
        raise CommunityNotFound("回答记录不存在")
    row.resolution, row.resolved_by, row.resolved_at = resolution, user_id, now
    session.add(row)
    return row


def resolution_rate(session: Session, since: Optional[datetime] = None) -> dict:
    """Rated answers and hand-overs: 解决率 = resolved / rated (a hand-over counts as unresolved by the robot)."""
    stmt = select(KbAnswerLog.resolution, KbAnswerLog.handed_over, func.count()).where(KbAnswerLog.source == "strategy")
    if since is not None:
        stmt = stmt.where(KbAnswerLog.created_at >= since)
    counts = {"resolved": 0, "unresolved": 0, "unrated": 0, "handed_over": 0, "answered": 0}
    for resolution, handed, n in session.exec(stmt.group_by(KbAnswerLog.resolution, KbAnswerLog.handed_over)):
        counts["handed_over" if handed else "answered"] += n
        counts[resolution or "unrated"] += n
    rated = counts["resolved"] + counts["unresolved"]
    counts["rated"] = rated
    counts["rate"] = round(counts["resolved"] * 100.0 / rated, 1) if rated else None
    counts["meets_target"] = counts["rate"] is not None and counts["rate"] >= TARGET_RATE
    return counts


def recent(session: Session, limit: int = 50, resolution: str = "", offset: int = 0) -> list[tuple]:
    """(log, entry question) newest first; resolution "" all, "unrated", "resolved", "unresolved"."""
    stmt = select(KbAnswerLog, KbEntry.question).join(KbEntry, KbEntry.id == KbAnswerLog.entry_id, isouter=True)
    if resolution == "unrated":
        stmt = stmt.where(KbAnswerLog.resolution == "")
    elif resolution in ("resolved", "unresolved"):
        stmt = stmt.where(KbAnswerLog.resolution == resolution)
    return list(session.exec(stmt.order_by(KbAnswerLog.id.desc()).offset(offset).limit(limit)).all())


def _visible(stmt, user_id: int, view_all: bool):
    if view_all:
        return stmt
    mine = select(WechatAccount.id).where(WechatAccount.owner_user_id == user_id)
    return stmt.where(or_(Conversation.assignee_id == user_id,
                          (Conversation.assignee_id.is_(None)) & (Conversation.channel == "wechat")
                          & Conversation.account_id.in_(mine)))


def pending(session: Session, user_id: int, view_all: bool, limit: int = 100) -> list[Conversation]:
    """待人工 conversations the user may see (a 业务员: those of their accounts or transferred to them)."""
    stmt = select(Conversation).where(Conversation.needs_human == True)  # noqa: E712
    return list(session.exec(_visible(stmt, user_id, view_all).order_by(Conversation.updated_at.desc()).limit(limit)).all())


def take_over(session: Session, conversation_id: int, user_id: int, view_all: bool, now: datetime) -> Conversation:
    """A human has answered: the conversation leaves the 待人工 list. Another's conversation is 404."""
    stmt = select(Conversation).where(Conversation.id == conversation_id, Conversation.needs_human == True)  # noqa: E712
    conversation = session.exec(_visible(stmt, user_id, view_all)).first()
    if conversation is None:
        raise CommunityNotFound("会话不存在或已处理")
    conversation.needs_human, conversation.needs_human_reason, conversation.updated_at = False, "", now
    session.add(conversation)
    return conversation
