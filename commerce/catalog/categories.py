"""类目 (a tree) and 品牌. A category can move under another one but never under itself or its own
descendants; siblings are ordered by `position`; a category or brand still used by a product (or,
for a category, with sub-categories) cannot be deleted — the products would lose their place."""
from __future__ import annotations

from typing import Optional

from sqlalchemy import func
from sqlmodel import Session, select

from commerce.catalog.models import ProductBrand, ProductCategory, ProductSpu
from commerce.errors import CommerceError
from crm.errors import NotFound

MAX_DEPTH = 5


def tree(session: Session) -> list[dict]:
    """[{id, name, position, parent_id, children: [...]}] ordered by position then id."""
    rows = session.exec(select(ProductCategory).order_by(ProductCategory.position, ProductCategory.id)).all()
    nodes = {c.id: {"id": c.id, "name": c.name, "position": c.position, "parent_id": c.parent_id, "children": []}
             for c in rows}
    roots = []
    for c in rows:
        parent = nodes.get(c.parent_id)
        (parent["children"] if parent else roots).append(nodes[c.id])
    return roots


def flatten(nodes: list[dict], depth: int = 0) -> list[dict]:
    out = []
    for n in nodes:
        out.append({**n, "depth": depth})
        out += flatten(n["children"], depth + 1)
    return out


def descendant_ids(session: Session, category_id: int) -> set[int]:
    """The category and everything below it."""
    parents = dict(session.exec(select(ProductCategory.id, ProductCategory.parent_id)).all())
    found, frontier = {category_id}, {category_id}
    while frontier:
        frontier = {cid for cid, pid in parents.items() if pid in frontier} - found
        found |= frontier
    return found


def get_category(session: Session, category_id) -> ProductCategory:
    row = session.get(ProductCategory, category_id) if isinstance(category_id, int) else None
    if row is None:
        raise NotFound("类目不存在")
    return row


def _depth(session: Session, parent_id: Optional[int]) -> int:
    depth = 0
    while parent_id is not None:
        depth += 1
        parent_id = session.get(ProductCategory, parent_id).parent_id
    return depth


def _clean(session: Session, data: dict, current: Optional[ProductCategory]) -> dict:
    name = str(data.get("name") or "").strip()
    if not name:
        raise CommerceError("类目名称不能为空", {"name": "类目名称不能为空"})
    if len(name) > 50:
        raise CommerceError("类目名称最多 50 个字", {"name": "类目名称最多 50 个字"})
    parent_id = data.get("parent_id")
    if parent_id in ("", None):
        parent_id = None
    else:
        try:
            parent_id = int(parent_id)
        except (TypeError, ValueError):
            raise CommerceError("上级类目不存在", {"parent_id": "上级类目不存在"}) from None
        if session.get(ProductCategory, parent_id) is None:
            raise CommerceError("上级类目不存在", {"parent_id": "上级类目不存在"})
        if current is not None and parent_id in descendant_ids(session, current.id):
            raise CommerceError("不能把类目移到它自己或它的下级类目下", {"parent_id": "不能移到自己或下级类目下"})
        if _depth(session, parent_id) + 1 >= MAX_DEPTH:
            raise CommerceError(f"类目最多 {MAX_DEPTH} 级", {"parent_id": f"类目最多 {MAX_DEPTH} 级"})
    siblings = select(ProductCategory.id).where(ProductCategory.name == name,
                                                ProductCategory.parent_id.is_(None) if parent_id is None
                                                else ProductCategory.parent_id == parent_id)
    clash = [i for i in session.exec(siblings).all() if current is None or i != current.id]
    if clash:
        raise CommerceError(f"同级已有类目「{name}」", {"name": f"同级已有类目「{name}」"})
    return {"name": name, "parent_id": parent_id}


def create_category(session: Session, data: dict) -> ProductCategory:
    clean = _clean(session, data, None)
    last = session.exec(select(func.max(ProductCategory.position)).where(
        ProductCategory.parent_id.is_(None) if clean["parent_id"] is None
        else ProductCategory.parent_id == clean["parent_id"])).one()
    row = ProductCategory(**clean, position=(last or 0) + 1)
    session.add(row)
    session.flush()
    return row


def update_category(session: Session, category_id: int, data: dict) -> ProductCategory:
    row = get_category(session, category_id)
    for key, value in _clean(session, data, row).items():
        setattr(row, key, value)
    session.add(row)
    session.flush()
    return row


def move_category(session: Session, category_id: int, direction: str) -> None:
    """上移/下移 among its siblings (swaps positions, renumbering so equal positions can't stall)."""
    row = get_category(session, category_id)
    siblings = list(session.exec(select(ProductCategory).where(
        ProductCategory.parent_id.is_(None) if row.parent_id is None else ProductCategory.parent_id == row.parent_id
    ).order_by(ProductCategory.position, ProductCategory.id)))
    index = siblings.index(row)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(siblings):
        siblings[index], siblings[other] = siblings[other], siblings[index]
    for position, sibling in enumerate(siblings, start=1):
        sibling.position = position
        session.add(sibling)
    session.flush()


def _products_using(session: Session, column, value) -> int:
    return session.exec(select(func.count()).select_from(ProductSpu).where(
        column == value, ProductSpu.deleted_at.is_(None))).one()


def delete_category(session: Session, category_id: int) -> None:
    row = get_category(session, category_id)
    if session.exec(select(ProductCategory.id).where(ProductCategory.parent_id == category_id)).first():
        raise CommerceError(f"类目「{row.name}」下还有子类目，请先移走或删除它们", {"category": "还有子类目"})
    used = _products_using(session, ProductSpu.category_id, category_id)
    if used:
        raise CommerceError(f"类目「{row.name}」下还有 {used} 个商品，请先把它们移到别的类目", {"category": "还有商品"})
    _detach_and_delete(session, row, "category_id")


def _detach_and_delete(session: Session, row, column: str) -> None:
    """Soft-deleted products still point at the row (their versions keep the id); point them nowhere."""
    for spu in session.exec(select(ProductSpu).where(getattr(ProductSpu, column) == row.id)):
        setattr(spu, column, None)
        session.add(spu)
    session.delete(row)
    session.flush()


# -- brands ----------------------------------------------------------------------------------
def list_brands(session: Session) -> list[ProductBrand]:
    return list(session.exec(select(ProductBrand).order_by(ProductBrand.name)))


def get_brand(session: Session, brand_id) -> ProductBrand:
    row = session.get(ProductBrand, brand_id) if isinstance(brand_id, int) else None
    if row is None:
        raise NotFound("品牌不存在")
    return row


def save_brand(session: Session, data: dict, brand_id: Optional[int] = None) -> ProductBrand:
    row = get_brand(session, brand_id) if brand_id is not None else ProductBrand(name="")
    name = str(data.get("name") or "").strip()
    remark = str(data.get("remark") or "").strip()
    if not name:
        raise CommerceError("品牌名称不能为空", {"name": "品牌名称不能为空"})
    if len(name) > 100 or len(remark) > 500:
        raise CommerceError("品牌名称最多 100 个字，备注最多 500 个字", {"name": "名称或备注过长"})
    clash = session.exec(select(ProductBrand.id).where(ProductBrand.name == name)).first()
    if clash is not None and clash != row.id:
        raise CommerceError(f"已有品牌「{name}」", {"name": f"已有品牌「{name}」"})
    row.name, row.remark = name, remark
    session.add(row)
    session.flush()
    return row


def delete_brand(session: Session, brand_id: int) -> None:
    row = get_brand(session, brand_id)
    used = _products_using(session, ProductSpu.brand_id, brand_id)
    if used:
        raise CommerceError(f"品牌「{row.name}」还有 {used} 个商品在用，不能删除", {"brand": "还有商品"})
    _detach_and_delete(session, row, "brand_id")
