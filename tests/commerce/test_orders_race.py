"""The last 10 units, two OS processes × 200 concurrent orders: exactly 10 orders succeed, the
rest are refused as over stock, and the stock ledger sums to the stock on hand and reserved.
Runs on SQLite and, in the PostgreSQL pass (CKB_TEST_DATABASE=postgres), on PostgreSQL."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlmodel import func, select

from commerce.catalog.models import ProductSku
from commerce.orders.models import OrderLine, SalesOrder
from commerce.stock.models import StockReservation
from crm.customers.models import Customer
from tests.commerce.order_world import ledger_matches_stock, make_sku

ROOT = Path(__file__).resolve().parents[2]
THREADS = 200


def test_two_processes_race_for_the_last_ten_units(services):
    db = services.db
    with db.write() as s:
        sku = make_sku(s, "LAST-10", 990, 10)
        customer = Customer(name="抢购客户")
        s.add(customer)
        s.flush()
        customer_id = customer.id
    url = services.settings.resolved_database_url()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, "-m", "tests.commerce.order_race", url, str(sku), str(customer_id),
                               str(THREADS)], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err[-2000:]
        results.append(json.loads(out.strip().splitlines()[-1]))
    assert [r["other"] for r in results] == [[], []]
    assert sum(r["ok"] for r in results) == 10
    assert sum(r["short"] for r in results) == 2 * THREADS - 10
    with db.read() as s:
        level = s.get(ProductSku, sku)
        assert (level.on_hand, level.reserved) == (10, 10)
        assert s.exec(select(func.count()).select_from(SalesOrder)).one() == 10
        assert s.exec(select(func.count()).select_from(OrderLine)).one() == 10
        assert s.exec(select(func.sum(StockReservation.quantity)).where(StockReservation.status == "held")).one() == 10
        assert ledger_matches_stock(s, sku)


def test_concurrent_retries_of_one_external_id_make_one_order(services):
    """A platform firing the same order at once from several connections: one order, one hold."""
    import threading

    from commerce.orders.service import create_order
    from crm.scope import SYSTEM

    db = services.db
    with db.write() as s:
        sku = make_sku(s, "DUP-1", 990, 5)
        customer = Customer(name="重复下单")
        s.add(customer)
        s.flush()
        customer_id = customer.id
    start, ids, errors = threading.Barrier(8), [], []

    def one():
        start.wait()
        try:
            with db.write() as s:
                ids.append(create_order(s, {"customer_id": customer_id, "external_id": "PLAT-1",
                                            "lines": [{"sku_id": sku, "quantity": 2}]}, SYSTEM, source="api").order.id)
        except Exception as exc:  # noqa: BLE001 - any failure fails the test below
            errors.append(repr(exc))

    threads = [threading.Thread(target=one) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(ids) == 8 and len(set(ids)) == 1
    with db.read() as s:
        assert s.exec(select(func.count()).select_from(SalesOrder)).one() == 1
        assert s.get(ProductSku, sku).reserved == 2
        assert ledger_matches_stock(s, sku)
