"""Issue 11 benchmark: order creation with stock reservation over HTTP (POST /api/v1/orders, bearer
token) at 32 connections, as req/s and p50/p99, against a bare Flask endpoint in the same run.

Run: .venv/bin/python bench/orders.py                  (3,000 orders; ~1–2 minutes on 2 cores)
     .venv/bin/python bench/orders.py --orders 500     (smoke run)

A fresh SQLite var dir on 127.0.0.1: `cunkebao init`, then 200 SKUs with plenty of stock and 500
customers. Each order has 1–3 lines (random SKUs, 1–3 units): the server checks the customer's
scope and every line, reserves every line through the stock ledger, writes the order, its lines,
reservations and transition, and stores order.created in the event ledger — all in one
transaction. The baseline is bench/baseline_app.py (parse the JSON body, answer 202) under the
same gunicorn options, driven by the same client with the same bodies. Afterwards the stock
ledger must sum to what each SKU holds, and the orders stored must equal the 201 answers.
Results are printed and written to bench/out/orders-<timestamp>.json.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ingest import PY, Proc, fresh_env, init_and_seed, save_results, start_servers  # noqa: E402
from bench.leads import Sender  # noqa: E402

PATH = "/api/v1/orders"
SKUS, CUSTOMERS, STOCK = 200, 500, 1_000_000


def seed() -> dict:
    from commerce.catalog.models import ProductSku, ProductSpu
    from commerce.stock import ledger
    from config.db import Database
    from config.settings import load_settings
    from crm.customers.models import Customer
    from crm.people import service as people

    settings = load_settings()
    db = Database(settings.resolved_database_url())
    people.ensure_builtin_roles(db)
    people.create_user(db, "bench", "Bench12345", display_name="压测", is_admin=True)
    token = people.create_token(db, "bench", "下单压测")
    with db.write() as s:
        spu = ProductSpu(code="BENCH", name="压测商品", shelf="on")
        s.add(spu)
        s.flush()
        skus = []
        for i in range(SKUS):
            sku = ProductSku(spu_id=spu.id, code=f"B-{i:04d}", spec_key=f"{i}", price_fen=100 + i)
            s.add(sku)
            s.flush()
            ledger.receive(s, sku.id, STOCK, reason="压测入库")
            skus.append(sku.id)
        customers = [Customer(name=f"客户{i}") for i in range(CUSTOMERS)]
        s.add_all(customers)
        s.flush()
        info = {"token": token, "skus": skus, "customers": [c.id for c in customers]}
    db.dispose()
    return info


def order_bodies(info: dict, n: int, seed_value: int) -> list[bytes]:
    rng = random.Random(seed_value)
    out = []
    for _ in range(n):
        lines = [{"sku_id": sku, "quantity": rng.randint(1, 3)} for sku in rng.sample(info["skus"], rng.randint(1, 3))]
        out.append(json.dumps({"customer_id": rng.choice(info["customers"]), "lines": lines},
                              separators=(",", ":")).encode())
    return out


class Client(Sender):
    """bench/leads.py's keep-alive sender with a bearer token instead of the HMAC signature."""

    def __init__(self, port: int, path: str, token: str, deadline: float):
        super().__init__(port, path, "", "", deadline)
        self.token, self.ok_status = token, 201

    def headers_for(self, body: bytes) -> dict:
        return {"Content-Type": "application/json", "Authorization": f"Bearer {self.token}"}


def ledger_check(db: str) -> dict:
    """Orders stored, and SKUs whose movements do not sum to their on_hand/reserved (must be 0)."""
    conn = sqlite3.connect(db, timeout=30)
    orders = conn.execute("SELECT count(*) FROM sales_order").fetchone()[0]
    off = conn.execute(
        "SELECT count(*) FROM product_sku k LEFT JOIN (SELECT sku_id, sum(on_hand_delta) oh, sum(reserved_delta) rs "
        "FROM stock_movement GROUP BY sku_id) m ON m.sku_id = k.id "
        "WHERE coalesce(m.oh, 0) != k.on_hand OR coalesce(m.rs, 0) != k.reserved").fetchone()[0]
    reserved = conn.execute("SELECT sum(reserved) FROM product_sku").fetchone()[0]
    conn.close()
    return {"orders_stored": orders, "skus_off_ledger": off, "units_reserved": reserved}


def run(args) -> dict:
    t0 = time.time()
    deadline = t0 + args.time_limit
    work = Path(tempfile.mkdtemp(prefix="ckb-bench-orders-"))
    env, db = fresh_env(work)
    env.pop("CKB_REDIS_URL", None)
    r: dict = {"config": vars(args) | {"cores": os.cpu_count(), "work_dir": str(work)}}
    procs: list[Proc] = []
    try:
        info = init_and_seed([PY, "bench/orders.py", "--seed-only"], env)
        base, _ = start_servers(args, env, work, procs)
        warm = order_bodies(info, 100, args.seed + 1)
        jobs = order_bodies(info, args.orders, args.seed)
        Client(args.base_port, "/api/v1/events", info["token"], deadline).run(warm, args.connections)
        r["baseline"] = Client(args.base_port, "/api/v1/events", info["token"], deadline).run(jobs, args.connections)
        base.stop()
        procs.remove(base)
        warmed = Client(args.port, PATH, info["token"], deadline).run(warm, args.connections)
        r["orders"] = Client(args.port, PATH, info["token"], deadline).run(jobs, args.connections)
        r["check"] = ledger_check(db)
        r["check"]["created_answers"] = warmed["statuses"].get(201, 0) + r["orders"]["statuses"].get(201, 0)
        r["ratio"] = r["orders"]["req_per_s"] / r["baseline"]["req_per_s"] if r["baseline"]["req_per_s"] else 0.0
    finally:
        for p in reversed(procs):
            p.stop()
    r["elapsed_seconds"] = time.time() - t0
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return r


def report(r: dict) -> str:
    rows = [f"{'':22s} {'req/s':>8s} {'p50 ms':>8s} {'p99 ms':>8s}  statuses"]
    for name, key in (("bare Flask (baseline)", "baseline"), ("POST /api/v1/orders", "orders")):
        p = r[key]
        rows.append(f"{name:22s} {p['req_per_s']:8.0f} {p['p50_ms']:8.1f} {p['p99_ms']:8.1f}  {p['statuses']} errors {p['errors']}")
    c = r["check"]
    rows.append(f"ratio orders / baseline: {r['ratio']:.3f}")
    rows.append(f"orders stored {c['orders_stored']} = 201 answers {c['created_answers']}: "
                f"{c['orders_stored'] == c['created_answers']};  SKUs whose ledger does not sum to stock: {c['skus_off_ledger']}")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=3000)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--port", type=int, default=5611)
    parser.add_argument("--base-port", type=int, default=5612)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--time-limit", type=float, default=600, help="seconds; the run stops sending after it")
    parser.add_argument("--keep", action="store_true", help="keep the temporary var dir and logs")
    parser.add_argument("--seed-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed_only:
        print("SEEDJSON " + json.dumps(seed()))
        return
    r = run(args)
    print(report(r))
    save_results("orders", r)


if __name__ == "__main__":
    main()
