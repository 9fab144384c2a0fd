"""快捷回复分类: a flat list of named categories, ordered by `sort` then name. Deleting a category
keeps its replies (they become 未分类), so a tidy-up never loses 话术."""
from __future__ import annotations

from sqlmodel import Session, select, update

from conversations.errors import ConversationError, ConversationNotFound
from conversations.ids import object_id
from conversations.quick_replies.models import QuickReply, QuickReplyCategory


def list_categories(session: Session) -> list[QuickReplyCategory]:
    return list(session.exec(select(QuickReplyCategory).order_by(QuickReplyCategory.sort, QuickReplyCategory.name)))


def get_category(session: Session, category_id) -> QuickReplyCategory:
    key = object_id(category_id)
    row = session.get(QuickReplyCategory, key) if key is not None else None
    if row is None:
        raise ConversationNotFound("分类不存在或已删除")
    return row


def _clean(session: Session, data: dict, current_id=None) -> dict:
    name = str(data.get("name") or "").strip()
    if not name:
        raise ConversationError("请填写分类名称", {"name": "请填写分类名称"})
    if len(name) > 50:
        raise ConversationError("分类名称不能超过 50 字", {"name": "分类名称不能超过 50 字"})
    clash = session.exec(select(QuickReplyCategory.id).where(QuickReplyCategory.name == name)).first()
    if clash is not None and clash != current_id:
        raise ConversationError(f"分类「{name}」已存在", {"name": f"分类「{name}」已存在"})
    try:
        sort = int(data.get("sort") or 0)
    except (TypeError, ValueError):
        raise ConversationError("排序应为整数", {"sort": "排序应为整数"}) from None
    if not -10000 <= sort <= 10000:
        raise ConversationError("排序应在 -10000 到 10000 之间", {"sort": "排序应在 -10000 到 10000 之间"})
    return {"name": name, "sort": sort}


def create_category(session: Session, data: dict) -> QuickReplyCategory:
    row = QuickReplyCategory(**_clean(session, data))
    session.add(row)
    session.flush()
    return row


def update_category(session: Session, category_id, data: dict) -> QuickReplyCategory:
    row = get_category(session, category_id)
    for key, value in _clean(session, data, row.id).items():
        setattr(row, key, value)
    session.add(row)
    session.flush()
    return row


def delete_category(session: Session, category_id) -> int:
    """Deletes the category; returns how many replies became 未分类."""
    row = get_category(session, category_id)
    moved = session.execute(update(QuickReply).where(QuickReply.category_id == row.id).values(category_id=None)
                         .execution_options(synchronize_session=False)).rowcount
    session.delete(row)
    session.flush()
    return moved or 0
