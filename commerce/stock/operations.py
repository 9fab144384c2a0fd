"""库存操作 by a person: 入库, 出库 and 盘点调整 of one SKU named by its code, always with who and
why, through the ledger; and the 库存流水 (movement list) with its filters."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Optional

from sqlalchemy import func
from sqlmodel import Session, select

from commerce.catalog.models import ProductSku, ProductSpu
from commerce.errors import CommerceError
from commerce.stock import ledger
from commerce.stock.models import MOVEMENT_KINDS, StockMovement

OPERATIONS = {"in": "入库", "out": "出库", "adjust": "盘点调整"}


def find_sku(session: Session, code: str) -> ProductSku:
    code = (code or "").strip()
    if not code:
        raise CommerceError("请填写 SKU 编码", {"sku_code": "请填写 SKU 编码"})
    sku = session.exec(select(ProductSku).where(ProductSku.code == code)).first()
    spu = session.get(ProductSpu, sku.spu_id) if sku else None
    if sku is None or spu is None or spu.deleted_at is not None:
        raise CommerceError(f"SKU「{code}」不存在", {"sku_code": f"SKU「{code}」不存在"})
    return sku


def apply(session: Session, operation: str, sku_code: str, quantity, reason: str, *,
          operator_id: Optional[int]) -> ledger.StockLevel:
    """入库 / 出库 of `quantity` units, or 盘点调整 to the counted `quantity`. The reason is required."""
    if operation not in OPERATIONS:
        raise CommerceError("未知的库存操作", {"operation": "未知的库存操作"})
    reason = (reason or "").strip()
    if not reason:
        raise CommerceError("请填写原因", {"reason": "请填写原因（如 采购入库、报损、月末盘点）"})
    if len(reason) > 300:
        raise CommerceError("原因最多 300 个字", {"reason": "原因最多 300 个字"})
    sku = find_sku(session, sku_code)
    if operation == "in":
        return ledger.receive(session, sku.id, quantity, operator_id=operator_id, reason=reason)
    if operation == "out":
        return ledger.issue(session, sku.id, quantity, operator_id=operator_id, reason=reason)
    return ledger.adjust_to(session, sku.id, quantity, operator_id=operator_id, reason=reason)


@dataclass
class MovementQuery:
    sku_code: str = ""
    spu_id: Optional[int] = None
    kind: str = ""
    start: Optional[datetime] = None  # UTC, inclusive
    end: Optional[datetime] = None  # UTC, exclusive
    order_id: Optional[int] = None


def list_movements(session: Session, query: MovementQuery, page: int = 1, per_page: int = 50):
    """[(movement, sku code, product name, spu id)], total — newest first."""
    where = []
    if query.sku_code.strip():
        where.append(ProductSku.code == query.sku_code.strip())
    if query.spu_id is not None:
        where.append(ProductSku.spu_id == query.spu_id)
    if query.kind in MOVEMENT_KINDS:
        where.append(StockMovement.kind == query.kind)
    if query.start is not None:
        where.append(StockMovement.created_at >= query.start)
    if query.end is not None:
        where.append(StockMovement.created_at < query.end)
    if query.order_id is not None:
        where.append(StockMovement.order_id == query.order_id)
    base = (select(StockMovement, ProductSku.code, ProductSpu.name, ProductSpu.id)
            .join(ProductSku, ProductSku.id == StockMovement.sku_id).join(ProductSpu, ProductSpu.id == ProductSku.spu_id)
            .where(*where))
    total = session.exec(select(func.count()).select_from(base.subquery())).one()
    rows = session.exec(base.order_by(StockMovement.id.desc()).offset((max(page, 1) - 1) * per_page).limit(per_page))
    return list(rows), total
