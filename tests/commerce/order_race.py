"""One process of the stock race: THREADS threads each try to order one unit of the SKU at once.
Run as `python -m tests.commerce.order_race <database url> <sku id> <customer id> <threads>`;
prints {"ok": n, "short": n, "other": [...]} as JSON."""
from __future__ import annotations

import json
import sys
import threading

from commerce.errors import InsufficientStock
from commerce.orders.service import create_order
from config.db import Database
from crm.scope import SYSTEM


def main(url: str, sku_id: int, customer_id: int, threads: int) -> dict:
    db = Database(url)
    start = threading.Barrier(threads)
    counts, other, lock = {"ok": 0, "short": 0}, [], threading.Lock()

    def one():
        start.wait()
        try:
            with db.write() as s:
                create_order(s, {"customer_id": customer_id, "lines": [{"sku_id": sku_id, "quantity": 1}]}, SYSTEM,
                             source="api")
            key = "ok"
        except InsufficientStock:
            key = "short"
        except Exception as exc:  # reported to the parent, which fails on any
            with lock:
                other.append(repr(exc)[:300])
            return
        with lock:
            counts[key] += 1

    workers = [threading.Thread(target=one) for _ in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    db.dispose()
    return {**counts, "other": other}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))))
