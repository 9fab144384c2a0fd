"""商品 (SPU) with its SKUs: create, edit, 上架/下架, delete (soft), each change one ProductVersion
(snapshot, summary, who). Initial stock and stock typed on the edit form go through the stock
ledger (入库 / 盘点调整 with who and why), never straight into the SKU row."""
from __future__ import annotations

from typing import Optional

from sqlmodel import Session, select

from commerce.catalog import clean, versions
from commerce.catalog.models import SHELF_STATES, ProductSku, ProductSpu
from commerce.errors import CommerceError, ProductNotFound
from commerce.stock import ledger
from config.clock import utcnow


def get_spu(session: Session, spu_id, *, include_deleted: bool = False) -> ProductSpu:
    spu = session.get(ProductSpu, spu_id) if isinstance(spu_id, int) and 0 < spu_id < 2**63 else None
    if spu is None or (spu.deleted_at is not None and not include_deleted):
        raise ProductNotFound("商品不存在")
    return spu


def skus_of(session: Session, spu_id: int) -> list[ProductSku]:
    return list(session.exec(select(ProductSku).where(ProductSku.spu_id == spu_id).order_by(ProductSku.id)))


def _check_code_free(session: Session, code: str, spu_id: Optional[int]) -> None:
    taken = session.exec(select(ProductSpu.id).where(ProductSpu.code == code)).first()
    if taken is not None and taken != spu_id:
        clean.refuse("code", f"商品编码「{code}」已被使用")


def create_spu(session: Session, data: dict, *, user_id: Optional[int]) -> ProductSpu:
    fields = clean.spu_fields(session, data)
    _check_code_free(session, fields["code"], None)
    entries = clean.sku_entries(session, data.get("skus"), fields["spec_dims"], fields["code"], {}, creating=True)
    spu = ProductSpu(**fields, created_by=user_id, version=0)
    session.add(spu)
    session.flush()
    for key, entry in entries.items():
        stock = entry.pop("on_hand", 0)
        sku = ProductSku(spu_id=spu.id, spec_key=key, **entry)
        session.add(sku)
        session.flush()
        if stock:
            ledger.receive(session, sku.id, stock, operator_id=user_id, reason="新建商品初始库存")
    versions.record(session, spu, None, user_id, "新建商品")
    return spu


def update_spu(session: Session, spu_id: int, data: dict, *, user_id: Optional[int]) -> ProductSpu:
    """Only the keys present change. New spec combinations get SKUs; vanished ones are disabled
    with their stock kept; a changed stock figure is a 盘点调整 in the ledger."""
    spu = get_spu(session, spu_id)
    before = versions.snapshot(session, spu)
    fields = clean.spu_fields(session, data, spu)
    if "code" in fields:
        _check_code_free(session, fields["code"], spu.id)
    dims = fields.get("spec_dims", spu.spec_dims or [])
    existing = {s.spec_key: s for s in skus_of(session, spu.id)}
    entries = None
    if "skus" in data or "spec_dims" in fields:
        entries = clean.sku_entries(session, data.get("skus"), dims, fields.get("code", spu.code), existing,
                                    creating=False)
    for key, value in fields.items():
        setattr(spu, key, value)
    if entries is not None:
        _apply_skus(session, spu, entries, existing, user_id)
    if versions.record(session, spu, before, user_id) is None:
        return spu
    spu.updated_at = utcnow()
    session.add(spu)
    session.flush()
    return spu


def _apply_skus(session: Session, spu: ProductSpu, entries: dict, existing: dict, user_id) -> None:
    # Codes may swap between SKUs of one product: park the changed ones first so the UNIQUE index
    # never sees two rows with one code in the middle of the save.
    changed = [s for k, s in existing.items() if k in entries and entries[k]["code"] != s.code]
    for sku in changed:
        sku.code = f"~{sku.id}~{sku.code}"[:64]
        session.add(sku)
    session.flush()
    for key, entry in entries.items():
        stock = entry.pop("on_hand", None)
        sku = existing.get(key)
        if sku is None:
            sku = ProductSku(spu_id=spu.id, spec_key=key, **entry)
            session.add(sku)
            session.flush()
            if stock:
                ledger.receive(session, sku.id, stock, operator_id=user_id, reason="新增规格初始库存")
            continue
        for field in ("code", "price_fen", "market_price_fen", "low_stock_threshold", "status", "specs"):
            setattr(sku, field, entry[field])
        sku.updated_at = utcnow()
        session.add(sku)
        session.flush()
        if stock is not None and stock != sku.on_hand:
            ledger.adjust_to(session, sku.id, stock, operator_id=user_id, reason="编辑商品时修改库存")
    for key, sku in existing.items():
        if key not in entries and sku.status != "disabled":
            sku.status = "disabled"  # its combination is gone; stock and history stay
            session.add(sku)
    session.flush()


def set_shelf(session: Session, spu_id: int, shelf: str, *, user_id: Optional[int]) -> ProductSpu:
    if shelf not in ("on", "off"):
        clean.refuse("shelf", "上下架状态应为 on 或 off")
    spu = get_spu(session, spu_id)
    if spu.shelf == shelf:
        return spu
    if shelf == "on":
        skus = [s for s in skus_of(session, spu.id) if s.status == "active"]
        if not skus:
            raise CommerceError("没有在售的规格，不能上架", {"shelf": "没有在售的规格"})
    before = versions.snapshot(session, spu)
    spu.shelf, spu.updated_at = shelf, utcnow()
    session.add(spu)
    versions.record(session, spu, before, user_id, SHELF_STATES[shelf])
    return spu


def set_shelf_many(session: Session, spu_ids: list[int], shelf: str, *, user_id: Optional[int]) -> tuple[int, list[str]]:
    """批量上架/下架: each product on its own savepoint, so one without a SKU on sale is named and
    skipped while the others change. Returns (changed, refusals)."""
    changed, refused = 0, []
    for spu_id in dict.fromkeys(spu_ids):
        try:
            with session.begin_nested():
                before = get_spu(session, spu_id).shelf
                spu = set_shelf(session, spu_id, shelf, user_id=user_id)
        except ProductNotFound:
            continue
        except CommerceError as exc:
            refused.append(f"{session.get(ProductSpu, spu_id).name}：{exc.message}")
            continue
        changed += spu.shelf != before
    return changed, refused


def delete_spu(session: Session, spu_id: int, *, user_id: Optional[int]) -> None:
    """Soft delete: orders and the ledger keep pointing at it; it leaves lists, search and the shelf.
    Its SKU codes are freed (renamed) so they can be reused on a new product."""
    spu = get_spu(session, spu_id)
    before = versions.snapshot(session, spu)
    now = utcnow()
    spu.deleted_at, spu.shelf, spu.updated_at = now, "off", now
    spu.code = f"{spu.code}~del{spu.id}"[:64]
    for sku in skus_of(session, spu.id):
        sku.status, sku.code = "disabled", f"{sku.code}~del{sku.id}"[:64]
        session.add(sku)
    session.add(spu)
    versions.record(session, spu, before, user_id, "删除商品")
