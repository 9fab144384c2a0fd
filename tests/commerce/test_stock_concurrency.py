"""Two OS processes × 200 concurrent reservations on the last 10 units: exactly 10 succeed, and
the movement ledger sums to the SKU's on_hand / reserved (SQLite here; PostgreSQL in the
CKB_TEST_DATABASE=postgres pass of tests/support/run_suite.sh)."""
from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

from sqlmodel import func, select

from commerce.catalog.models import ProductSku
from commerce.errors import InsufficientStock
from commerce.stock import ledger
from commerce.stock.models import StockMovement
from tests.commerce.catalog_fixtures import create, tee

ATTEMPTS = 200  # per process
THREADS = 8


def _hammer(url: str, sku_id: int, first_order: int) -> tuple[int, int]:
    """Runs in a fresh process: ATTEMPTS reservations of 1 unit from THREADS threads."""
    from config.db import Database

    db = Database(url)

    def attempt(order_id: int) -> bool:
        try:
            with db.write() as s:
                ledger.reserve(s, sku_id, 1, order_id=order_id)
            return True
        except InsufficientStock:
            return False

    try:
        with ThreadPoolExecutor(THREADS) as pool:
            results = list(pool.map(attempt, range(first_order, first_order + ATTEMPTS)))
    finally:
        db.dispose()
    return sum(results), len(results) - sum(results)


def test_two_processes_reserving_the_last_ten_units_succeed_exactly_ten_times(db, settings):
    spu_id = create(db, tee())
    with db.read() as s:
        sku = s.exec(select(ProductSku).where(ProductSku.spu_id == spu_id)).first()
    with db.write() as s:
        ledger.receive(s, sku.id, 5, operator_id=1, reason="补到 10 件")
    url = settings.resolved_database_url()
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        outcomes = list(pool.map(_hammer, [url, url], [sku.id, sku.id], [1, 1 + ATTEMPTS]))
    assert sum(ok for ok, _ in outcomes) == 10
    assert sum(refused for _, refused in outcomes) == 2 * ATTEMPTS - 10
    with db.read() as s:
        row = s.get(ProductSku, sku.id)
        assert (row.on_hand, row.reserved) == (10, 10)
        on_hand, reserved, reserves = s.exec(select(
            func.sum(StockMovement.on_hand_delta), func.sum(StockMovement.reserved_delta),
            func.count().filter(StockMovement.kind == "reserve")).where(StockMovement.sku_id == sku.id)).one()
        assert (on_hand, reserved, reserves) == (10, 10, 10)
