"""/api/v1/products: CRUD with integer fen (floats refused naming the field), search, shelf,
versions, stock operations; unknown ids 404; permissions; documented in the OpenAPI document."""
from __future__ import annotations

from commerce.catalog.models import ProductSku, ProductSpu
from commerce.stock.models import StockMovement
from tests.commerce.catalog_fixtures import tee
from tests.web.api_helpers import api, assert_error, count, viewer_api  # noqa: F401 - fixtures


def test_create_get_search_update_shelf_versions_delete(api, app_db):  # noqa: F811
    created = api.ok("POST", "/api/v1/products", tee(), 201)
    spu_id = created["spu_id"]
    assert len(created["skus"]) == 4 and {k["price_fen"] for k in created["skus"]} == {9900}
    assert {k["available"] for k in created["skus"]} == {5}
    found = api.ok("GET", "/api/v1/products?q=纯棉T&price_min_fen=9900&price_max_fen=9900")
    assert found["total"] == 1 and found["items"][0]["price_min_fen"] == 9900
    assert api.ok("GET", "/api/v1/products?code=T100-RM")["total"] == 1
    updated = api.ok("PUT", f"/api/v1/products/{spu_id}",
                     {"name": "春季T恤", "skus": [{"specs": {"颜色": "红", "尺码": "M"}, "price_fen": 8800}]})
    assert updated["name"] == "春季T恤" and updated["version"] == 2
    assert {k["price_fen"] for k in updated["skus"]} == {8800, 9900}
    assert api.ok("POST", f"/api/v1/products/{spu_id}/shelf", {"shelf": "on"})["shelf"] == "on"
    assert [v["summary"] for v in api.ok("GET", f"/api/v1/products/{spu_id}/versions")["items"]][:2] == \
        ["已上架", "修改：名称、售价"]
    assert api.ok("DELETE", f"/api/v1/products/{spu_id}")["deleted"] == spu_id
    assert_error(api.get(f"/api/v1/products/{spu_id}"), 404, "商品不存在")


def test_floats_negatives_duplicates_and_unknown_ids_are_refused_writing_nothing(api, app_db):  # noqa: F811
    cases = [(lambda d: d["skus"][0].update(price_fen=99.5), "skus.0.price_fen"),
             (lambda d: d["skus"][0].update(price_fen=9900.0), "skus.0.price_fen"),
             (lambda d: d["skus"][1].update(market_price_fen=-1), "skus.1.market_price_fen"),
             (lambda d: d["skus"][2].update(on_hand=1.5), "skus.2.on_hand"),
             (lambda d: d["skus"][3].update(code="T100-RM"), "skus"),
             (lambda d: d.update(category_id=99), "category_id"),
             (lambda d: d.update(brand_id=99), "brand_id"),
             (lambda d: d.update(images=[99]), "images"),
             (lambda d: d.update(colour="红"), "colour")]
    for change, field in cases:
        body = tee()
        change(body)
        assert_error(api.post("/api/v1/products", body), 422, field)
    assert count(app_db, ProductSpu) == 0 and count(app_db, ProductSku) == 0 and count(app_db, StockMovement) == 0
    assert_error(api.put("/api/v1/products/999", {"name": "x"}), 404)
    assert_error(api.get("/api/v1/products?price_min_fen=1.5"), 400, "price_min_fen")


def test_stock_operations_over_the_api(api, app_db):  # noqa: F811
    api.ok("POST", "/api/v1/products", tee(), 201)
    level = api.ok("POST", "/api/v1/products/skus/T100-RM/stock", {"operation": "in", "quantity": 20, "reason": "采购入库"})
    assert level == {"sku_code": "T100-RM", "on_hand": 25, "reserved": 0, "available": 25}
    assert_error(api.post("/api/v1/products/skus/T100-RM/stock", {"operation": "out", "quantity": 2.5, "reason": "x"}),
                 422, "quantity")
    assert_error(api.post("/api/v1/products/skus/T100-RM/stock", {"operation": "out", "quantity": 99, "reason": "报损"}),
                 409, "库存不足")
    assert_error(api.post("/api/v1/products/skus/T100-RM/stock", {"operation": "in", "quantity": 1, "reason": ""}),
                 422, "reason")
    moves = api.ok("GET", "/api/v1/products/skus/T100-RM/movements")
    assert moves["total"] == 2 and [m["reason"] for m in moves["items"]] == ["采购入库", "新建商品初始库存"]
    assert api.ok("GET", "/api/v1/products?low_stock=1")["total"] == 0
    api.ok("POST", "/api/v1/products/skus/T100-BL/stock", {"operation": "adjust", "quantity": 2, "reason": "盘点"})
    assert [i["code"] for i in api.ok("GET", "/api/v1/products?low_stock=true")["items"]] == ["T100"]
    assert_error(api.post("/api/v1/products/skus/NOPE/stock", {"operation": "in", "quantity": 1, "reason": "x"}),
                 422, "sku_code")


def test_categories_brands_permissions_and_openapi(api, viewer_api, app_db):  # noqa: F811
    parent = api.ok("POST", "/api/v1/product-categories", {"name": "服装"}, 201)["category_id"]
    api.ok("POST", "/api/v1/product-categories", {"name": "T恤", "parent_id": parent}, 201)
    assert api.ok("GET", "/api/v1/product-categories")["items"][0]["children"][0]["name"] == "T恤"
    api.ok("POST", "/api/v1/product-brands", {"name": "优衣"}, 201)
    assert_error(api.post("/api/v1/product-brands", {"name": "优衣"}), 422, "优衣")
    assert viewer_api.post("/api/v1/products", tee()).status_code == 403
    doc = api.ok("GET", "/api/v1/openapi.json")
    post = doc["paths"]["/api/v1/products"]["post"]
    schema = post["requestBody"]["content"]["application/json"]["schema"]
    assert schema["example"]["skus"][0]["price_fen"] == 9900 and "products.manage" in post["description"]
    assert "/api/v1/products/skus/{sku_code}/stock" in doc["paths"]
