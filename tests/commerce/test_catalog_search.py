"""商品搜索 over the FTS5 trigram tables (SQLite) / pg_trgm (PostgreSQL), kept in sync on every write."""
from __future__ import annotations

from commerce.catalog import categories, products
from commerce.catalog.search import ProductQuery, search
from tests.commerce.catalog_fixtures import create, make_tag, tee


def _names(db, **kw) -> list[str]:
    with db.read() as s:
        rows, total = search(s, ProductQuery(**kw))
    assert total == len(rows)
    return sorted(r.spu.name for r in rows)


def test_search_by_substring_code_category_brand_tag_price_and_shelf(db):
    with db.write() as s:
        root = categories.create_category(s, {"name": "服装"}).id
        leaf = categories.create_category(s, {"name": "T恤", "parent_id": root}).id
        brand = categories.save_brand(s, {"name": "优衣"}).id
        tag = make_tag(s, "夏季")
    a = create(db, tee("T100", "夏季纯棉T恤", category_id=leaf, brand_id=brand, tag_ids=[tag]))
    create(db, tee("C200", "冬季羽绒服"))
    assert _names(db, q="纯棉T") == ["夏季纯棉T恤"]  # trigram phrase
    assert _names(db, q="季") == ["冬季羽绒服", "夏季纯棉T恤"]  # short word
    assert _names(db, q="t100-b") == ["夏季纯棉T恤"]  # SKU code substring, any case
    assert _names(db, q="100%") == [] and _names(db, q='"') == []
    assert _names(db, code="C200-RL") == ["冬季羽绒服"] and _names(db, code="C200") == ["冬季羽绒服"]
    assert _names(db, category_id=root) == ["夏季纯棉T恤"]
    assert _names(db, brand_id=brand) == ["夏季纯棉T恤"] and _names(db, tag_id=tag) == ["夏季纯棉T恤"]
    assert _names(db, price_min_fen=9900, price_max_fen=9900) == ["冬季羽绒服", "夏季纯棉T恤"]
    assert _names(db, price_max_fen=9899) == []
    with db.write() as s:
        products.set_shelf(s, a, "on", user_id=1)
        products.update_spu(s, a, {"name": "春季亚麻衬衫"}, user_id=1)
    assert _names(db, shelf="on") == ["春季亚麻衬衫"]
    assert _names(db, q="纯棉T") == [] and _names(db, q="亚麻衬") == ["春季亚麻衬衫"]
    with db.write() as s:
        products.delete_spu(s, a, user_id=1)
    assert _names(db, q="亚麻衬") == []


def test_search_pages_and_reports_stock_and_price_range(db):
    for i in range(5):
        create(db, tee(f"P{i}", f"商品{i}号"))
    with db.read() as s:
        rows, total = search(s, ProductQuery(q="商品"), page=2, per_page=2)
    assert total == 5 and [r.spu.code for r in rows] == ["P2", "P1"]
    assert (rows[0].sku_count, rows[0].price_min_fen, rows[0].on_hand, rows[0].available) == (4, 9900, 20, 20)
