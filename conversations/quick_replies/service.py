"""快捷回复: create / edit / delete (quick_replies.manage), the replies a person may use (visibility by
department), search over title / text / category, rendering for a customer and send counts.

Functions take the caller's Session and never commit."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Optional

from sqlalchemy import or_
from sqlmodel import Session, col, select, update

from config.clock import utcnow
from conversations.errors import ConversationError, ConversationNotFound
from conversations.ids import id_list, object_id
from conversations.quick_replies import variables
from conversations.quick_replies.categories import get_category
from conversations.quick_replies.models import ATTACHMENT_KINDS, VISIBILITY, QuickReply, QuickReplyCategory
from crm.people.models import Department, UserDepartment
from crm.scope import Viewer
from devices.models import ContentItem, Material

MANAGE = "quick_replies.manage"
TEXT_MAX = 2000
MAX_ATTACHMENTS = 9


def departments_of(session: Session, user_id: Optional[int]) -> set[int]:
    if user_id is None:
        return set()
    return set(session.exec(select(UserDepartment.department_id).where(UserDepartment.user_id == user_id)))


def visible_to(reply: QuickReply, viewer: Viewer, departments: set[int]) -> bool:
    """Managers see every reply (they edit them); others the 全员 ones and those of their departments."""
    if viewer.has(MANAGE) or reply.visibility == "all":
        return True
    return bool(departments & {int(d) for d in reply.department_ids or []})


@dataclass
class ReplyFilter:
    q: str = ""
    category_id: Optional[int] = None  # 0 = 未分类


def search(session: Session, viewer: Viewer, flt: ReplyFilter = ReplyFilter(), limit: int = 500) -> list[QuickReply]:
    """The replies `viewer` may use matching `flt`, most used first. Matching is a substring of the
    title, the text or the category name (Chinese has no word breaks to stem on)."""
    stmt = select(QuickReply).outerjoin(QuickReplyCategory, QuickReplyCategory.id == QuickReply.category_id)
    q = (flt.q or "").strip()[:50]
    if q:
        like = f"%{q.replace('%', '').replace('_', '')}%"
        stmt = stmt.where(or_(col(QuickReply.title).ilike(like), col(QuickReply.text).ilike(like),
                              col(QuickReplyCategory.name).ilike(like)))
    if flt.category_id == 0:
        stmt = stmt.where(col(QuickReply.category_id).is_(None))
    elif flt.category_id:
        stmt = stmt.where(QuickReply.category_id == flt.category_id)
    stmt = stmt.order_by(col(QuickReply.send_count).desc(), QuickReply.id)
    departments = departments_of(session, viewer.user_id)
    out = []
    # Visibility is a JSON list of department ids: filtered here, the library is hundreds of rows.
    for reply in session.exec(stmt):
        if visible_to(reply, viewer, departments):
            out.append(reply)
            if len(out) >= limit:
                break
    return out


def get_reply(session: Session, reply_id, viewer: Viewer) -> QuickReply:
    """A reply `viewer` may use; another department's is "not found" like an unknown id."""
    key = object_id(reply_id)
    reply = session.get(QuickReply, key) if key is not None else None
    if reply is None or not visible_to(reply, viewer, departments_of(session, viewer.user_id)):
        raise ConversationNotFound("快捷回复不存在或无权使用")
    return reply


def _attachments(session: Session, raw) -> list[dict]:
    if raw in (None, "", []):
        return []
    if not isinstance(raw, list):
        raise ConversationError("附件格式有误", {"attachments": "附件应为列表"})
    out: list[dict] = []
    for item in raw:
        kind = item.get("kind") if isinstance(item, dict) else None
        if kind not in ATTACHMENT_KINDS:
            raise ConversationError("附件类型只能是素材或内容库", {"attachments": "附件类型只能是素材或内容库"})
        [key] = id_list(item.get("id"), "附件", "attachments") or [None]
        model = Material if kind == "material" else ContentItem
        if key is None or session.get(model, key) is None:
            raise ConversationError(f"{ATTACHMENT_KINDS[kind]} #{item.get('id')} 不存在",
                                    {"attachments": f"{ATTACHMENT_KINDS[kind]} #{item.get('id')} 不存在"})
        if {"kind": kind, "id": key} not in out:
            out.append({"kind": kind, "id": key})
    if len(out) > MAX_ATTACHMENTS:
        raise ConversationError(f"附件最多 {MAX_ATTACHMENTS} 个", {"attachments": f"附件最多 {MAX_ATTACHMENTS} 个"})
    return out


def _clean(session: Session, data: dict) -> dict:
    errors: dict = {}
    title = str(data.get("title") or "").strip()
    if not title:
        errors["title"] = "请填写标题"
    elif len(title) > 100:
        errors["title"] = "标题不能超过 100 字"
    text = str(data.get("text") or "")
    attachments: list = []
    try:
        attachments = _attachments(session, data.get("attachments"))
    except ConversationError as exc:
        errors.update(exc.errors)
    if not text.strip() and not attachments and "attachments" not in errors:
        errors["text"] = "请填写话术内容或添加附件"
    elif len(text) > TEXT_MAX:
        errors["text"] = f"话术内容不能超过 {TEXT_MAX} 字"
    elif text.strip():
        try:
            variables.check(session, text)
        except ConversationError as exc:
            errors.update(exc.errors)
    category_id = None
    if data.get("category_id") not in (None, "", 0, "0"):
        try:
            category_id = get_category(session, data.get("category_id")).id
        except ConversationNotFound:
            errors["category_id"] = "分类不存在"
    visibility = data.get("visibility") or "all"
    departments: list[int] = []
    if visibility not in VISIBILITY:
        errors["visibility"] = "可见范围只能是全员或指定部门"
    elif visibility == "departments":
        try:
            departments = id_list(data.get("department_ids"), "部门", "department_ids")
        except ConversationError as exc:
            errors.update(exc.errors)
        else:
            known = set(session.exec(select(Department.id).where(col(Department.id).in_(departments)))) if departments else set()
            missing = [d for d in departments if d not in known]
            if not departments:
                errors["department_ids"] = "请选择可见的部门"
            elif missing:
                errors["department_ids"] = f"部门 {missing} 不存在"
    if errors:
        raise ConversationError("快捷回复信息有误：" + "；".join(errors.values()), errors)
    return {"title": title, "text": text, "attachments": attachments, "category_id": category_id,
            "visibility": visibility, "department_ids": departments}


def create_reply(session: Session, data: dict, user_id: Optional[int] = None,
                 now: Optional[datetime] = None) -> QuickReply:
    now = now or utcnow()
    reply = QuickReply(**_clean(session, data), created_by=user_id, created_at=now, updated_at=now)
    session.add(reply)
    session.flush()
    return reply


def update_reply(session: Session, reply_id, data: dict, viewer: Viewer, now: Optional[datetime] = None) -> QuickReply:
    reply = get_reply(session, reply_id, viewer)
    for key, value in _clean(session, data).items():
        setattr(reply, key, value)
    reply.updated_at = now or utcnow()
    session.add(reply)
    session.flush()
    return reply


def delete_reply(session: Session, reply_id, viewer: Viewer) -> None:
    session.delete(get_reply(session, reply_id, viewer))
    session.flush()


def count_use(session: Session, reply_id: int, times: int = 1, now: Optional[datetime] = None) -> None:
    """发送次数 += times, in one UPDATE (two people picking at once both count)."""
    session.execute(update(QuickReply).where(QuickReply.id == reply_id)
                    .values(send_count=QuickReply.send_count + times, last_used_at=now or utcnow())
                    .execution_options(synchronize_session=False))
