"""Tags on products and companies (seed 001 §3.1.1.2: 「可对所有对象打标签，如产品、客户、活动、公司」):
a tag belongs to its category's 适用对象 (客户档案 / 商品 / 公司) and is put only on that kind of
object. Product and company tags are global manual tags or personal tags (the owner's only):
auto rules are customer audiences. Links are one table keyed by (object type, object id, tag),
so 活动 can follow without a new table; crm knows products only by id (commerce imports crm,
never the reverse), so the console checks the product exists before calling here.

Functions take the caller's Session and never commit.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlmodel import Session, select

from config.clock import utcnow
from crm.errors import CrmError, NotFound
from crm.tags.models import ObjectTag, Tag, TagCategory
from crm.tags.service import get_tag, visible_clause

OBJECT_TYPES = {"product": "商品", "company": "公司"}


def _check_type(object_type: str) -> None:
    if object_type not in OBJECT_TYPES:
        raise NotFound("对象类型不存在")


def choices(session: Session, object_type: str, viewer_id: int | None) -> list[Tag]:
    """The enabled tags one may put on this kind of object: its categories', global or one's own."""
    _check_type(object_type)
    return list(session.scalars(select(Tag).join(TagCategory, TagCategory.id == Tag.category_id).where(
        TagCategory.object_type == object_type, Tag.enabled.is_(True), Tag.kind != "auto",
        visible_clause(viewer_id)).order_by(Tag.name)))


def tags_of(session: Session, object_type: str, object_id: int, viewer_id: int | None) -> list[Tag]:
    _check_type(object_type)
    return list(session.scalars(select(Tag).join(ObjectTag, ObjectTag.tag_id == Tag.id).where(
        ObjectTag.object_type == object_type, ObjectTag.object_id == object_id, visible_clause(viewer_id))
        .order_by(Tag.name)))


def _usable(session: Session, object_type: str, tag_id: int, viewer_id: int | None) -> Tag:
    tag = get_tag(session, tag_id, viewer_id)  # another's personal tag: not found
    category = session.get(TagCategory, tag.category_id)
    label = OBJECT_TYPES[object_type]
    if category is None or category.object_type != object_type:
        raise CrmError(f"标签「{tag.name}」不适用于{label}", {"tag_ids": f"请选择适用对象为{label}的标签"})
    if tag.kind == "auto":
        raise CrmError(f"自动标签不能手动标记", {"tag_ids": f"「{tag.name}」是自动标签"})
    return tag


def add_tags(session: Session, object_type: str, object_id: int, tag_ids, viewer_id: int | None,
             now: datetime | None = None) -> int:
    """Puts the tags on the object (already there: left as is); returns how many were added."""
    _check_type(object_type)
    ids = sorted({int(t) for t in tag_ids or []})
    if not ids:
        raise CrmError("请选择标签", {"tag_ids": "请选择标签"})
    added = 0
    for tag_id in ids:
        tag = _usable(session, object_type, tag_id, viewer_id)
        if not tag.enabled:
            raise CrmError(f"标签「{tag.name}」已禁用", {"tag_ids": f"「{tag.name}」已禁用"})
        if session.get(ObjectTag, (object_type, object_id, tag_id)) is None:
            session.add(ObjectTag(object_type=object_type, object_id=object_id, tag_id=tag_id, added_by=viewer_id,
                                  added_at=now or utcnow()))
            added += 1
    session.flush()
    return added


def remove_tag(session: Session, object_type: str, object_id: int, tag_id: int, viewer_id: int | None) -> None:
    _check_type(object_type)
    get_tag(session, tag_id, viewer_id)
    session.execute(delete(ObjectTag).where(ObjectTag.object_type == object_type, ObjectTag.object_id == object_id,
                                            ObjectTag.tag_id == tag_id))


def forget_object(session: Session, object_type: str, object_id: int) -> None:
    """A deleted product or company takes its tag links with it."""
    session.execute(delete(ObjectTag).where(ObjectTag.object_type == object_type, ObjectTag.object_id == object_id))
