"""The stock ledger keeps 0 <= reserved <= on_hand and records every change."""
from __future__ import annotations

import pytest
from sqlmodel import func, select

from commerce.catalog.models import ProductSku, ProductSpu
from commerce.errors import CommerceError, InsufficientStock
from commerce.stock import ledger
from commerce.stock.models import StockMovement


@pytest.fixture
def sku_id(db):
    with db.write() as s:
        spu = ProductSpu(code="SPU1", name="体验课")
        s.add(spu)
        s.flush()
        sku = ProductSku(spu_id=spu.id, code="SKU1", price_fen=990)
        s.add(sku)
        s.flush()
        return sku.id


def test_reserve_consume_release_and_ledger_sums_to_stock(db, sku_id):
    with db.write() as s:
        ledger.receive(s, sku_id, 10, operator_id=1, reason="采购入库")
        ledger.reserve(s, sku_id, 4, order_id=1)
        ledger.consume(s, sku_id, 3, order_id=1)
        ledger.release(s, sku_id, 1, order_id=1)
    with db.read() as s:
        level = ledger.level(s, sku_id)
        assert (level.on_hand, level.reserved, level.available) == (7, 0, 7)
        on_hand_sum, reserved_sum = s.exec(select(func.sum(StockMovement.on_hand_delta),
                                                  func.sum(StockMovement.reserved_delta))).one()
        assert (on_hand_sum, reserved_sum) == (7, 0)


def test_over_reservation_and_negative_adjustments_are_refused_without_a_trace(db, sku_id):
    with db.write() as s:
        ledger.receive(s, sku_id, 2)
        ledger.reserve(s, sku_id, 2, order_id=9)
    with pytest.raises(InsufficientStock) as caught, db.write() as s:
        ledger.reserve(s, sku_id, 1, order_id=10)
    assert caught.value.available == 0 and "库存不足" in caught.value.message
    with pytest.raises(InsufficientStock), db.write() as s:
        ledger.adjust_to(s, sku_id, 1)  # 2 units are held by order 9
    for bad in (0, -1, 1.5, "x", True):
        with pytest.raises(CommerceError), db.write() as s:
            ledger.receive(s, sku_id, bad)
    with db.read() as s:
        assert s.exec(select(func.count()).select_from(StockMovement)).one() == 2
        assert s.get(ProductSku, sku_id).reserved == 2
