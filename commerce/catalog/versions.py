"""商品版本: every save stores the whole product (SPU + SKUs, without the stock figures, which
the stock ledger records) with a one-line summary of what changed and who changed it."""
from __future__ import annotations

from typing import Optional

from sqlmodel import Session, select

from commerce.catalog.models import ProductSku, ProductSpu, ProductVersion

LABELS = {"code": "编码", "name": "名称", "subtitle": "副标题", "category_id": "类目", "brand_id": "品牌",
          "attributes": "属性", "spec_dims": "规格维度", "images": "图片", "description": "详情", "tag_ids": "商品标签",
          "audience": "目标客户群", "link_url": "链接", "miniprogram": "小程序", "shelf": "上下架", "one_time": "一次性商品",
          "deleted": "删除"}
SKU_LABELS = {"code": "SKU 编码", "price_fen": "售价", "market_price_fen": "划线价", "low_stock_threshold": "库存预警",
              "status": "规格状态"}


def snapshot(session: Session, spu: ProductSpu) -> dict:
    session.flush()
    skus = session.exec(select(ProductSku).where(ProductSku.spu_id == spu.id).order_by(ProductSku.id)).all()
    data = {key: getattr(spu, key) for key in LABELS if key != "deleted"}
    data["deleted"] = spu.deleted_at is not None
    data["skus"] = [{"id": s.id, "spec_key": s.spec_key, "specs": dict(s.specs or {}),
                     **{k: getattr(s, k) for k in SKU_LABELS}} for s in skus]
    return data


def summary(before: Optional[dict], after: dict) -> str:
    if before is None:
        return "新建商品"
    changed = [LABELS[k] for k in LABELS if before.get(k) != after.get(k)]
    old = {s["id"]: s for s in before.get("skus", [])}
    added = [s for s in after["skus"] if s["id"] not in old]
    if added:
        changed.append(f"新增 {len(added)} 个规格")
    sku_changes = {SKU_LABELS[k] for s in after["skus"] if s["id"] in old
                   for k in SKU_LABELS if old[s["id"]][k] != s[k]}
    changed += sorted(sku_changes, key=list(SKU_LABELS.values()).index)
    return "修改：" + "、".join(changed) if changed else ""


def record(session: Session, spu: ProductSpu, before: Optional[dict], user_id: Optional[int],
           text: str = "") -> Optional[ProductVersion]:
    """Adds a version when something changed (None when the save changed nothing)."""
    after = snapshot(session, spu)
    described = summary(before, after)
    if before is not None and not described:
        return None
    spu.version = (spu.version or 0) + 1
    session.add(spu)
    row = ProductVersion(spu_id=spu.id, version=spu.version, snapshot=after, summary=(text or described)[:500],
                         changed_by=user_id)
    session.add(row)
    session.flush()
    return row


def list_versions(session: Session, spu_id: int) -> list[ProductVersion]:
    return list(session.exec(select(ProductVersion).where(ProductVersion.spu_id == spu_id)
                             .order_by(ProductVersion.version.desc())))
