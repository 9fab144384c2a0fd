"""商品搜索 at scale (issue 11 benchmark, search part): 100,000 SKUs (20,000 products × 5 SKUs) in a
fresh migrated SQLite database (or PostgreSQL with --postgres URL), then p50/p99 of the catalogue
search (commerce.catalog.search.search: count + first page of 20 + per-product SKU stats, exactly
what /products and GET /api/v1/products run) for several kinds of query, each as a ratio to a
plain indexed lookup of one SKU by code measured in the same run. Also the same 3+-character
Chinese substring as a bare LIKE scan, to show what the FTS5 trigram index (migration 0015) buys.

    .venv/bin/python bench/catalog.py                       # 100k SKUs, SQLite
    .venv/bin/python bench/catalog.py --products 4000       # smaller
    .venv/bin/python bench/catalog.py --postgres postgresql+psycopg://…/db   # an EMPTY scratch database

Bounded: the load is chunked executemany (the FTS triggers run on every row, as in production);
each query kind runs --runs times (default 60). Goal from the issue: search p99 ≤ 100 ms.
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text  # noqa: E402
from sqlmodel import select  # noqa: E402

from commerce.catalog.models import ProductSku  # noqa: E402
from commerce.catalog.search import ProductQuery, search  # noqa: E402
from config.db import Database  # noqa: E402
from web.migrate import upgrade  # noqa: E402

ADJ = ["夏季", "冬季", "春秋", "新款", "经典", "加厚", "轻薄", "复古", "简约", "韩版", "宽松", "修身"]
MATERIAL = ["纯棉", "真丝", "羊毛", "亚麻", "牛仔", "针织", "雪纺", "皮质", "羽绒", "法兰绒"]
NOUN = ["T恤", "衬衫", "连衣裙", "外套", "卫衣", "长裤", "短裙", "围巾", "帽子", "背包", "运动鞋", "保温杯"]
COLORS = ["红", "蓝", "黑", "白", "灰"]
SKUS_PER_PRODUCT = 5
CHUNK = 5_000


def load(db: Database, products: int) -> float:
    started = time.perf_counter()
    rnd = random.Random(11)
    with db.write() as s:
        for i in range(10):
            s.execute(text("INSERT INTO product_category (id, parent_id, name, position, created_at) "
                           "VALUES (:i, NULL, :n, :i, CURRENT_TIMESTAMP)"), {"i": i + 1, "n": f"大类{i}"})
        for i in range(40):
            s.execute(text("INSERT INTO product_category (id, parent_id, name, position, created_at) "
                           "VALUES (:i, :p, :n, :i, CURRENT_TIMESTAMP)"), {"i": 11 + i, "p": i % 10 + 1, "n": f"小类{i}"})
        for i in range(20):
            s.execute(text("INSERT INTO product_brand (id, name, remark, created_at) "
                           "VALUES (:i, :n, '', CURRENT_TIMESTAMP)"), {"i": i + 1, "n": f"品牌{i}"})
    spu_sql = text("INSERT INTO product_spu (id, code, name, subtitle, category_id, brand_id, attributes, spec_dims, "
                   "images, description, tag_ids, audience, link_url, miniprogram, shelf, one_time, version, "
                   "created_at, updated_at) VALUES (:id, :code, :name, '', :cat, :brand, '[]', :dims, '[]', '', :tags, "
                   "'{}', '', '{}', :shelf, false, 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)")
    sku_sql = text("INSERT INTO product_sku (spu_id, code, spec_key, specs, price_fen, market_price_fen, on_hand, "
                   "reserved, low_stock_threshold, status, created_at, updated_at) VALUES (:spu, :code, :key, :specs, "
                   ":price, NULL, :stock, 0, 0, 'active', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)")
    dims = '[{"name": "颜色", "values": ["红", "蓝", "黑", "白", "灰"]}]'
    for start in range(0, products, CHUNK):
        spus, skus = [], []
        for i in range(start, min(products, start + CHUNK)):
            name = f"{rnd.choice(ADJ)}{rnd.choice(MATERIAL)}{rnd.choice(NOUN)} {i}号"
            spus.append({"id": i + 1, "code": f"P{i:06d}", "name": name, "cat": rnd.randint(11, 50),
                         "brand": rnd.randint(1, 20), "dims": dims, "tags": f"[{rnd.randint(1, 30)}]",
                         "shelf": rnd.choice(["on", "on", "off", "draft"])})
            base = rnd.randint(10, 2000) * 100
            for j, color in enumerate(COLORS):
                skus.append({"spu": i + 1, "code": f"P{i:06d}-{j}", "key": f"颜色={color}",
                             "specs": '{"颜色": "%s"}' % color, "price": base + j * 100, "stock": rnd.randint(0, 500)})
        with db.write() as s:
            s.execute(spu_sql, spus)
            s.execute(sku_sql, skus)
    with db.write() as s:
        s.execute(text("ANALYZE"))
    return time.perf_counter() - started


def timed(db: Database, fn, runs: int) -> tuple[float, float]:
    samples = []
    with db.read() as s:
        fn(s, runs - 1)  # warm the page cache: every kind starts equal
    for i in range(runs):
        with db.read() as s:
            t = time.perf_counter()
            fn(s, i)
            samples.append((time.perf_counter() - t) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.99))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--products", type=int, default=20_000, help="products (× 5 SKUs each)")
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--postgres", default="", help="an empty scratch PostgreSQL database URL")
    args = parser.parse_args()
    tmp = tempfile.TemporaryDirectory(prefix="ckb-bench-catalog-")
    url = args.postgres or f"sqlite:///{tmp.name}/catalog.db"
    upgrade(url)
    db = Database(url)
    n = args.products
    seconds = load(db, n)
    print(f"loaded {n:,} products / {n * SKUS_PER_PRODUCT:,} SKUs into {db.dialect} in {seconds:.1f} s")
    rnd = random.Random(5)
    codes = [f"P{rnd.randrange(n):06d}-{rnd.randrange(5)}" for _ in range(args.runs)]
    serials = [rnd.randrange(n) for _ in range(args.runs)]
    words3 = [f"{rnd.choice(MATERIAL)}{rnd.choice(NOUN)}" for _ in range(args.runs)]

    def page(query):
        return lambda s, i: search(s, query(i), 1, 20)

    kinds = [
        ("baseline: one SKU by code (indexed)",
         lambda s, i: s.exec(select(ProductSku).where(ProductSku.code == codes[i])).first()),
        ("exact SPU/SKU code", page(lambda i: ProductQuery(code=codes[i]))),
        ("SKU code fragment (6+ chars)", page(lambda i: ProductQuery(q=codes[i][1:8]))),
        ("rare name fragment 「… 1234号」", page(lambda i: ProductQuery(q=f" {serials[i]}号"))),
        ("common name fragment 「纯棉T恤」", page(lambda i: ProductQuery(q=words3[i]))),
        ("2-char word 「羽绒」 (scan)", page(lambda i: ProductQuery(q=rnd.choice(MATERIAL)))),
        ("category tree + price range", page(lambda i: ProductQuery(category_id=1 + i % 10, price_min_fen=50_000,
                                                                    price_max_fen=60_000))),
        ("brand + tag + on shelf", page(lambda i: ProductQuery(brand_id=1 + i % 20, tag_id=1 + i % 30, shelf="on"))),
        ("name fragment + category + price", page(lambda i: ProductQuery(q=words3[i], category_id=1 + i % 10,
                                                                         price_max_fen=100_000))),
    ]
    if db.dialect == "sqlite":  # what the trigram index buys, on the biggest column it serves
        kinds += [("SKU code fragment: FTS5 trigram count", lambda s, i: s.execute(text(
                      "SELECT count(*) FROM product_sku_search WHERE product_sku_search MATCH :p"),
                      {"p": f'"{codes[i][1:8]}"'}).scalar()),
                  ("SKU code fragment: bare LIKE count (no index)", lambda s, i: s.execute(text(
                      "SELECT count(*) FROM product_sku WHERE code LIKE :p"), {"p": f"%{codes[i][1:8]}%"}).scalar())]
    results = [(label, *timed(db, fn, args.runs)) for label, fn in kinds]
    base = results[0][1]
    print(f"\n{'query':46s} {'p50 ms':>8s} {'p99 ms':>8s} {'p50 / baseline':>15s}")
    for label, p50, p99 in results:
        print(f"{label:46s} {p50:8.2f} {p99:8.2f} {p50 / base:14.1f}x")
    worst = max(p99 for label, _p50, p99 in results[1:] if ":" not in label)
    print(f"\nworst search p99: {worst:.1f} ms (goal ≤ 100 ms): {'met' if worst <= 100 else 'NOT met'}")
    db.dispose()
    tmp.cleanup()


if __name__ == "__main__":
    main()
