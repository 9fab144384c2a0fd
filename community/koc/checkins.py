"""Check-ins a KOC starts from their H5, and the points members earn from any 群打卡.

Starting one makes an ordinary 工作台 群打卡 task for the KOC's group (the web layer saves it
through engine.workbench, which community may not import), records it here, and announces it in
the group through conversations.outbound.send. Members then check in by sending the keyword; the
check-in processor stores the CheckIn and community.rewards.checkin_points.award_checkin puts the
points into the ledger (key f"checkin:{checkin_id}:{member_wxid}"), as for every 群打卡."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlmodel import Session, select

from community.errors import CommunityError
from community.koc.models import Koc, KocCheckin, KocGroup
from conversations.models import ChatMessage
from conversations.outbound import Content, send
from conversations.store import NewMessage, conversation_for
from devices.models import ChatGroup

KEYWORD_MAX = 20


def check_request(session: Session, koc: Koc, group_id: Optional[int], keyword: str, points_each) -> tuple[ChatGroup, str, int]:
    """Validates a start request from the H5: the KOC's own group, a keyword, sensible points."""
    errors = {}
    group = session.get(ChatGroup, group_id) if group_id else None
    led = session.exec(select(KocGroup).where(KocGroup.koc_id == koc.id, KocGroup.group_id == (group_id or 0))).first()
    if group is None or led is None:
        errors["group_id"] = "请选择您带领的群"
    keyword = (keyword or "").strip()
    if not keyword:
        errors["keyword"] = "请填写打卡口令"
    elif len(keyword) > KEYWORD_MAX:
        errors["keyword"] = f"打卡口令最多 {KEYWORD_MAX} 个字"
    try:
        each = int(points_each)
        if not 0 <= each <= 100:
            raise ValueError
    except (TypeError, ValueError):
        errors["points"] = "每次打卡积分应为 0–100 的整数"
        each = 0
    if errors:
        raise CommunityError(next(iter(errors.values())), errors)
    return group, keyword, each


def record_start(session: Session, koc: Koc, group: ChatGroup, keyword: str, points_each: int, strategy_id: int,
                 announcement: str, now: datetime, idempotency_key: str, settings=None) -> KocCheckin:
    conversation = conversation_for(session, NewMessage(channel="wechat", account_id=group.account_id, kind="group",
                                                        peer_id=group.chatroom_id, direction="out", title=group.name,
                                                        group_id=group.id), now)
    message: ChatMessage = send(session, conversation, Content(text=announcement), source="koc",
                                idempotency_key=idempotency_key[:128], sender_name=koc.name, now=now,
                                settings=settings)
    started = KocCheckin(koc_id=koc.id, group_id=group.id, strategy_id=strategy_id, keyword=keyword,
                         points=points_each, message_id=message.id, started_at=now)
    session.add(started)
    session.flush()
    return started


def started_in(session: Session, koc_id: int, limit: int = 20) -> list[KocCheckin]:
    return list(session.exec(select(KocCheckin).where(KocCheckin.koc_id == koc_id)
                             .order_by(KocCheckin.started_at.desc()).limit(limit)))
