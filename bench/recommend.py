"""智能推荐 at scale: 100,000 SKUs (20,000 products × 5), 1,000,000 paid orders, 200,000 customers
with planted affinities (tests/support/recommend_data.py), on SQLite.

Prints: generation time, one full rebuild of the recommendation tables, ranking latency for one
customer (p50 / p99 over a random sample, the goal is p99 ≤ 50 ms), and the offline evaluation
(each customer's last order held out, tables rebuilt from the rest): hit-rate@5 and NDCG@5 of the
blend against the popularity baseline measured in the same run (goal ≥ 1.5× hit-rate).

    .venv/bin/python bench/recommend.py                       # 1M orders (~3–4 min on 2 cores)
    .venv/bin/python bench/recommend.py --orders 200000 --customers 40000 --spus 4000

Bounded: sizes are arguments; the evaluation and latency runs use samples (--sample).
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from config.db import Database  # noqa: E402
from commerce.recommend import evaluation, ranker, refresh  # noqa: E402
from tests.support.recommend_data import generate  # noqa: E402
from web.migrate import upgrade  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spus", type=int, default=20_000)
    parser.add_argument("--skus-per-spu", type=int, default=5)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--tags", type=int, default=200)
    parser.add_argument("--sample", type=int, default=2000, help="customers timed and evaluated")
    args = parser.parse_args()
    now = datetime(2026, 12, 1, tzinfo=timezone.utc)
    with tempfile.TemporaryDirectory(prefix="ckb-bench-recommend-") as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        upgrade(url)
        db = Database(url)
        started = time.perf_counter()
        with db.write() as s:
            planted = generate(s, customers=args.customers, spus=args.spus, skus_per_spu=args.skus_per_spu,
                               orders=args.orders, tags=args.tags, now=now)
        generated = time.perf_counter() - started
        print(f"generated {args.spus * args.skus_per_spu:,} SKUs ({args.spus:,} products), {planted.orders:,} orders, "
              f"{args.customers:,} customers, {args.tags} tags in {generated:.1f} s")

        with db.write() as s:
            build = refresh.rebuild(s, now)
        print(f"rebuild: {build.purchases:,} purchases → {build.pairs:,} co-purchase rows, {build.segments} segments "
              f"in {build.seconds:.1f} s")

        rnd = random.Random(3)
        sample = rnd.sample(planted.customer_ids, min(args.sample, len(planted.customer_ids)))
        timings, banned, reasons_missing = [], planted.out_of_stock | planted.off_shelf, 0
        with db.read() as s:
            for cid in sample[:50]:  # warm the page cache like a running server
                ranker.recommend(s, cid, 5)
            for cid in sample:
                t0 = time.perf_counter()
                recs = ranker.recommend(s, cid, 5)
                timings.append(time.perf_counter() - t0)
                reasons_missing += sum(1 for r in recs if not r.reasons)
                assert not {r.spu_id for r in recs} & banned, "an unsellable product was recommended"
        ms = [t * 1000 for t in timings]
        print(f"recommend one customer (limit 5, {len(ms)} customers): p50 {statistics.median(ms):.1f} ms, "
              f"p99 {percentile(ms, 0.99):.1f} ms, max {max(ms):.1f} ms (goal p99 ≤ 50 ms); "
              f"items without a reason: {reasons_missing}")

        t0 = time.perf_counter()
        with db.write() as s:
            result = evaluation.evaluate(s, k=5, sample=args.sample, now=now)
        model, base = result["model"], result["baseline"]
        print(f"offline evaluation ({result['customers']} held-out customers, {time.perf_counter() - t0:.1f} s incl. "
              f"two rebuilds):")
        print(f"  blend     hit-rate@5 {model['hit_rate']:.3f}  NDCG@5 {model['ndcg']:.3f}")
        print(f"  baseline  hit-rate@5 {base['hit_rate']:.3f}  NDCG@5 {base['ndcg']:.3f}  (popularity, same rules)")
        print(f"  ratio     hit-rate {result['ratio']:.2f}×  NDCG {model['ndcg'] / base['ndcg']:.2f}× (goal ≥ 1.5×)")
        db.dispose()


if __name__ == "__main__":
    main()
