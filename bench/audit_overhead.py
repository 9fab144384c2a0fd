"""Issue 14 benchmark: what 操作日志 costs a write-heavy request. POST /api/v1/orders (bearer token;
scope check, stock reservation per line, order + lines + reservations + transition + event record
in one transaction, ~10 rows written) through the app in process, with the audit context on (every
changed object logged with masked before/after) and off (the listeners installed but idle), in
interleaved rounds in the same run on the same database.

Run: .venv/bin/python bench/audit_overhead.py              (3 rounds × 200 orders per mode; ~1 min)
     .venv/bin/python bench/audit_overhead.py --orders 50  (smoke run)

A fresh SQLite file in a temp dir (removed afterwards); nothing listens on a socket.
"""
from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def build(var: Path):
    from config.settings import Settings
    from web import create_app
    from web.migrate import upgrade

    url = f"sqlite:///{var / 'cunkebao.db'}"
    upgrade(url)
    settings = Settings(var_dir=var, database_url=url, secret_key="bench-secret", run_background=False,
                        secure_cookies=False)
    app = create_app(settings)
    return app, app.extensions["ckb"].services.db


def seed(db) -> dict:
    from commerce.catalog.models import ProductSku, ProductSpu
    from commerce.stock import ledger
    from crm.customers.models import Customer
    from crm.people import service as people

    people.ensure_builtin_roles(db)
    people.create_user(db, "bench", "Bench12345", display_name="压测", is_admin=True)
    token = people.create_token(db, "bench", "审计压测")
    with db.write() as s:
        spu = ProductSpu(code="BENCH", name="压测商品", shelf="on")
        s.add(spu)
        s.flush()
        skus = []
        for i in range(50):
            sku = ProductSku(spu_id=spu.id, code=f"B-{i:04d}", spec_key=f"{i}", price_fen=100 + i)
            s.add(sku)
            s.flush()
            ledger.receive(s, sku.id, 1_000_000, reason="压测入库")
            skus.append(sku.id)
        customers = [Customer(name=f"客户{i}", mobile=f"139{i:08d}") for i in range(200)]
        s.add_all(customers)
        s.flush()
        return {"token": token, "skus": skus, "customers": [c.id for c in customers]}


def bodies(info: dict, n: int, rng: random.Random) -> list[dict]:
    return [{"customer_id": rng.choice(info["customers"]),
             "lines": [{"sku_id": sku, "quantity": rng.randint(1, 3)} for sku in rng.sample(info["skus"], 3)]}
            for _ in range(n)]


def run(client, token: str, payloads: list[dict]) -> list[float]:
    headers = {"Authorization": f"Bearer {token}"}
    out = []
    for body in payloads:
        start = time.perf_counter()
        resp = client.post("/api/v1/orders", json=body, headers=headers)
        out.append(time.perf_counter() - start)
        assert resp.status_code == 201, resp.get_data(as_text=True)[:300]
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=200, help="orders per mode per round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from sqlalchemy import func, select

    from crm.audit.models import OperationLog
    from web import audit_hooks

    var = Path(tempfile.mkdtemp(prefix="ckb-bench-audit-"))
    try:
        app, db = build(var)
        info = seed(db)
        client = app.test_client()
        hooks = app.before_request_funcs.setdefault(None, [])
        rng = random.Random(14)
        run(client, info["token"], bodies(info, 20, rng))  # warm-up (compiled statement caches)
        times = {"off": [], "audit": []}
        for _ in range(args.rounds):
            for mode in ("off", "audit"):
                if mode == "off":
                    hooks.remove(audit_hooks._begin)
                try:
                    times[mode] += run(client, info["token"], bodies(info, args.orders, rng))
                finally:
                    if mode == "off":
                        hooks.append(audit_hooks._begin)
        with db.read() as s:
            logged = s.execute(select(func.count()).select_from(OperationLog)).scalar()
        result = {}
        for mode, samples in times.items():
            samples.sort()
            result[mode] = {"n": len(samples), "p50_ms": round(statistics.median(samples) * 1000, 2),
                            "p99_ms": round(samples[int(len(samples) * 0.99) - 1] * 1000, 2),
                            "per_s": round(len(samples) / sum(samples), 1)}
        ratio = result["audit"]["p50_ms"] / result["off"]["p50_ms"]
        print(f"{'mode':<8}{'orders':>8}{'p50 ms':>10}{'p99 ms':>10}{'orders/s':>10}")
        for mode in ("off", "audit"):
            r = result[mode]
            print(f"{mode:<8}{r['n']:>8}{r['p50_ms']:>10}{r['p99_ms']:>10}{r['per_s']:>10}")
        print(f"operation_log rows written: {logged} ({logged / max(1, result['audit']['n']):.1f} per audited order)")
        print(f"p50 ratio audit/off: {ratio:.3f}  throughput ratio: "
              f"{result['audit']['per_s'] / result['off']['per_s']:.3f}")
        print(json.dumps({"results": result, "ratio_p50": round(ratio, 3), "log_rows": logged}))
    finally:
        shutil.rmtree(var, ignore_errors=True)


if __name__ == "__main__":
    main()
