"""标签分类: the category tree on the left of 标签管理, one tree per object the tags describe
(客户档案 now; 产品 later), in the display order the operator sets (显示顺序).

Functions take a Session (inside `services.db.write()` / `.read()`); bad input raises CrmError
with a Chinese message per form field. A category that still holds tags or sub-categories
cannot be deleted: the operator empties it first, so no tag is ever orphaned.
"""
from __future__ import annotations

from sqlalchemy import func, select
from sqlmodel import Session

from crm.errors import CrmError, NotFound
from crm.tags.models import Tag, TagCategory

OBJECT_TYPES = {"customer": "客户档案", "product": "商品", "company": "公司"}  # crm.tags.objects: 商品/公司


def _object_type(value) -> str:
    value = str(value or "customer")
    if value not in OBJECT_TYPES:
        raise CrmError("适用对象无效", {"object_type": "适用对象只能是" + "、".join(OBJECT_TYPES.values())})
    return value


def get_category(session: Session, category_id: int) -> TagCategory:
    category = session.get(TagCategory, category_id)
    if category is None:
        raise NotFound("标签分类不存在")
    return category


def list_categories(session: Session, object_type: str = "customer") -> list[TagCategory]:
    return list(session.scalars(select(TagCategory).where(TagCategory.object_type == object_type)
                                .order_by(TagCategory.position, TagCategory.id)))


def tree(session: Session, object_type: str = "customer") -> list[dict]:
    """Nested nodes {"id", "name", "position", "parent_id", "depth", "children"} in display order."""
    categories = list_categories(session, object_type)
    nodes = {c.id: {"id": c.id, "name": c.name, "position": c.position, "parent_id": c.parent_id,
                    "children": []} for c in categories}
    roots = []
    for c in categories:
        parent = nodes.get(c.parent_id) if c.parent_id else None
        (parent["children"] if parent else roots).append(nodes[c.id])

    def depth(items, level):
        for item in items:
            item["depth"] = level
            depth(item["children"], level + 1)

    depth(roots, 0)
    return roots


def flatten(nodes: list[dict]) -> list[dict]:
    """The tree in display order, depth-first (for <select> options with indentation)."""
    out = []
    for node in nodes:
        out.append(node)
        out.extend(flatten(node["children"]))
    return out


def descendant_ids(session: Session, category_id: int) -> list[int]:
    """The category and everything below it (包含下级)."""
    rows = session.execute(select(TagCategory.id, TagCategory.parent_id)).all()
    children: dict[int, list[int]] = {}
    for cid, parent in rows:
        children.setdefault(parent, []).append(cid)
    found, stack = [], [category_id]
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(children.get(current, []))
    return found


def _clean(session: Session, data: dict, category_id: int | None = None) -> dict:
    errors = {}
    name = str(data.get("name") or "").strip()
    if not name:
        errors["name"] = "请填写分类名称"
    elif len(name) > 100:
        errors["name"] = "分类名称最多 100 个字"
    try:
        position = int(data.get("position") or 0)
    except (TypeError, ValueError):
        errors["position"] = "显示顺序应为整数"
        position = 0
    parent_id = data.get("parent_id") or None
    parent = None
    if parent_id is not None:
        try:
            parent = session.get(TagCategory, int(parent_id))
        except (TypeError, ValueError):
            parent = None
        if parent is None:
            errors["parent_id"] = "上级分类不存在"
        elif category_id is not None and parent.id in descendant_ids(session, category_id):
            errors["parent_id"] = "不能把分类移动到它自己或它的下级分类之下"
    if errors:
        raise CrmError("请检查标签分类的填写", errors)
    object_type = parent.object_type if parent else _object_type(data.get("object_type"))
    siblings = select(TagCategory.id).where(TagCategory.name == name, TagCategory.object_type == object_type,
                                            TagCategory.parent_id.is_(None) if parent is None
                                            else TagCategory.parent_id == parent.id)
    if category_id is not None:
        siblings = siblings.where(TagCategory.id != category_id)
    if session.scalar(siblings) is not None:
        raise CrmError("分类名称重复", {"name": f"同一上级下已有分类「{name}」"})
    return {"name": name, "position": position, "parent_id": parent.id if parent else None,
            "object_type": object_type}


def create_category(session: Session, data: dict) -> TagCategory:
    category = TagCategory(**_clean(session, data))
    session.add(category)
    session.flush()
    return category


def update_category(session: Session, category_id: int, data: dict) -> TagCategory:
    """Renames, re-orders or moves a category (and everything under it)."""
    category = get_category(session, category_id)
    values = _clean(session, {**data, "object_type": category.object_type}, category_id)
    for key, value in values.items():
        setattr(category, key, value)
    session.add(category)
    session.flush()
    return category


def move_category(session: Session, category_id: int, parent_id: int | None, position: int) -> TagCategory:
    category = get_category(session, category_id)
    return update_category(session, category_id, {"name": category.name, "parent_id": parent_id,
                                                  "position": position})


def delete_category(session: Session, category_id: int) -> None:
    category = get_category(session, category_id)
    children = session.scalar(select(func.count()).select_from(TagCategory)
                              .where(TagCategory.parent_id == category_id)) or 0
    if children:
        raise CrmError(f"分类「{category.name}」下还有 {children} 个下级分类，请先删除或移走它们")
    tags = session.scalar(select(func.count()).select_from(Tag).where(Tag.category_id == category_id)) or 0
    if tags:
        raise CrmError(f"分类「{category.name}」下还有 {tags} 个标签，请先删除或移走它们")
    session.delete(category)
    session.flush()
