"""目标客户群: the customers a product is meant for, as a marketer defines them — 包含标签 (any of),
不包含标签 (none of), condition rows over customer fields (the one condition language's SQL
compiler, exactly as tag rules and 定向营销 audiences use it) and/or a saved 查询方案; every part
that is set must hold. A product without any part has no target customers (not "everyone").

The audience is stored on the product (ProductSpu.audience: {"tag_ids", "exclude_tag_ids",
"conditions", "saved_query_id"}) and always read through a viewer's scope (crm.scope): a
业务员 counts and lists only the target customers they may see.
"""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import and_, false, func, select
from sqlmodel import Session

from commerce.catalog.models import ProductSku, ProductSpu, ProductVersion
from commerce.errors import CommerceError, ProductNotFound
from commerce.recommend.refresh import sync_product
from config.clock import utcnow
from crm import scope
from crm.customers.audience import audience_select, validate_spec
from crm.customers.models import Customer, SavedQuery
from crm.errors import CrmError

MAX_ROWS = 50


def _ids(value, field: str) -> list[int]:
    if value in (None, ""):
        return []
    if not isinstance(value, list):
        raise CommerceError("标签选择有误", {field: "应为标签 ID 列表"})
    out = []
    for v in value:
        try:
            out.append(int(v))
        except (TypeError, ValueError):
            raise CommerceError("标签选择有误", {field: "应为标签 ID 列表"}) from None
    return sorted(set(out))


def is_empty(audience: dict) -> bool:
    audience = audience or {}
    return not (audience.get("tag_ids") or audience.get("exclude_tag_ids") or audience.get("conditions")
                or audience.get("saved_query_id"))


def clean(session: Session, raw, tz: Optional[str] = None) -> dict:
    """The stored form of an audience; CommerceError naming the part that is wrong."""
    if not isinstance(raw, dict):
        raise CommerceError("目标客户群格式错误", {"audience": "应为对象"})
    rows = raw.get("conditions", raw.get("rows")) or []
    if not isinstance(rows, list) or len(rows) > MAX_ROWS:
        raise CommerceError("条件有误", {"rows": f"条件应为列表，最多 {MAX_ROWS} 行"})
    out = {"tag_ids": _ids(raw.get("tag_ids", raw.get("include_tags")), "include_tags"),
           "exclude_tag_ids": _ids(raw.get("exclude_tag_ids", raw.get("exclude_tags")), "exclude_tags"),
           "conditions": rows, "saved_query_id": None}
    saved = raw.get("saved_query_id")
    if saved not in (None, "", 0, "0"):
        try:
            saved = int(saved)
        except (TypeError, ValueError):
            raise CommerceError("查询方案不存在", {"saved_query_id": "查询方案不存在"}) from None
        if session.get(SavedQuery, saved) is None:
            raise CommerceError("查询方案不存在", {"saved_query_id": "查询方案不存在"})
        out["saved_query_id"] = saved
    if rows or out["tag_ids"] or out["exclude_tag_ids"]:
        try:
            validate_spec(session, _own_spec(out), tz)
        except CrmError as exc:  # name the editor's parts (rows / include_tags), in Chinese
            raise CommerceError(exc.message, exc.errors) from None
    return out


def _own_spec(audience: dict) -> dict:
    return {"mode": "conditions", "rows": audience.get("conditions") or [],
            "include_tags": list(audience.get("tag_ids") or []), "exclude_tags": list(audience.get("exclude_tag_ids") or [])}


def _specs(session: Session, audience: dict) -> list[dict]:
    specs = []
    if audience.get("conditions") or audience.get("tag_ids") or audience.get("exclude_tag_ids"):
        specs.append(_own_spec(audience))
    if audience.get("saved_query_id"):
        saved = session.get(SavedQuery, int(audience["saved_query_id"]))
        if saved is None:  # the scheme was deleted since: nobody matches rather than everybody
            return []
        query = saved.query or {}
        specs.append({"mode": "conditions", "rows": query.get("rows") or [],
                      "include_tags": list(query.get("include_tags") or []),
                      "exclude_tags": list(query.get("exclude_tags") or [])})
    return specs


def audience_clause(session: Session, audience: dict, viewer: scope.Viewer, now: Optional[datetime] = None,
                    tz: Optional[str] = None):
    """A boolean clause on Customer: in the product's 目标客户群 and visible to `viewer`."""
    specs = _specs(session, audience or {})
    if not specs:
        return false()
    now = now or utcnow()
    parts = [Customer.id.in_(audience_select(session, spec, now, tz)) for spec in specs]
    return and_(*parts, scope.customers(viewer))


def count(session: Session, audience: dict, viewer: scope.Viewer, now=None, tz=None) -> int:
    clause = audience_clause(session, audience, viewer, now, tz)
    return int(session.execute(select(func.count()).select_from(Customer).where(clause)).scalar() or 0)


def members(session: Session, audience: dict, viewer: scope.Viewer, page: int = 1, size: int = 20, now=None,
            tz=None) -> tuple[list[Customer], int]:
    """One page of the target customers, best tag score first, and how many there are."""
    clause = audience_clause(session, audience, viewer, now, tz)
    total = int(session.execute(select(func.count()).select_from(Customer).where(clause)).scalar() or 0)
    rows = session.execute(select(Customer).where(clause).order_by(Customer.tag_score.desc(), Customer.id)
                           .offset((max(page, 1) - 1) * size).limit(size)).scalars().all()
    return list(rows), total


def customer_ids(session: Session, audience: dict, viewer: scope.Viewer, now=None, tz=None) -> list[int]:
    clause = audience_clause(session, audience, viewer, now, tz)
    return list(session.execute(select(Customer.id).where(clause).order_by(Customer.id)).scalars())


def get_product(session: Session, spu_id) -> ProductSpu:
    try:
        spu = session.get(ProductSpu, int(spu_id))
    except (TypeError, ValueError):
        spu = None
    if spu is None or spu.deleted_at is not None:
        raise ProductNotFound("商品不存在或已删除")
    return spu


def save(session: Session, spu_id: int, raw, user_id: Optional[int], tz: Optional[str] = None) -> ProductSpu:
    """Stores the product's 目标客户群 as a new product version and re-indexes its target tags
    for 智能推荐 at once (no waiting for the hourly rebuild)."""
    spu = get_product(session, spu_id)
    cleaned = clean(session, raw, tz)
    if cleaned == {**{"tag_ids": [], "exclude_tag_ids": [], "conditions": [], "saved_query_id": None},
                   **(spu.audience or {})}:
        return spu
    now = utcnow()
    spu.audience = cleaned
    spu.version = (spu.version or 1) + 1
    spu.updated_at = now
    session.add(spu)
    session.flush()
    skus = session.execute(select(ProductSku).where(ProductSku.spu_id == spu.id).order_by(ProductSku.id)).scalars()
    snapshot = {**spu.model_dump(mode="json"), "skus": [s.model_dump(mode="json") for s in skus]}
    session.add(ProductVersion(spu_id=spu.id, version=spu.version, snapshot=snapshot, summary="修改目标客户群",
                               changed_by=user_id, created_at=now))
    sync_product(session, spu.id)
    session.flush()
    return spu
