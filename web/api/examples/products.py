"""Examples of the /api routes in web/api/products.py (request body and answers by status), shown in the
OpenAPI document and Swagger UI; names follow the operationIds."""

PRODUCT = {
    "spu_id": 40,
    "code": "TEA",
    "name": "明前龙井",
    "shelf": "on",
    "version": 2,
    "skus": [
        {
            "sku_id": 81,
            "code": "TEA-250G",
            "spec_key": "规格:250g",
            "specs": {"规格": "250g"},
            "price_fen": 19900,
            "market_price_fen": 25900,
            "on_hand": 120,
            "reserved": 3,
            "available": 117,
            "low_stock_threshold": 10,
            "status": "active",
        },
    ],
}

LIST_PRODUCTS = {"200": {"items": [PRODUCT], "total": 1, "page": 1, "per_page": 20}}

CREATE_PRODUCT = {
    "request": {
        "code": "TEA",
        "name": "明前龙井",
        "spec_dims": [{"name": "规格", "values": ["250g"]}],
        "skus": [{"code": "TEA-250G", "specs": {"规格": "250g"}, "price_fen": 19900}],
    },
    "201": {**PRODUCT, "version": 1},
}

GET_PRODUCT = {"200": PRODUCT}

UPDATE_PRODUCT = {"request": {"name": "明前龙井（特级）"}, "200": {**PRODUCT, "name": "明前龙井（特级）", "version": 3}}

DELETE_PRODUCT = {"200": {"deleted": 40}}

SHELVE_PRODUCT = {"request": {"shelf": "off"}, "200": {**PRODUCT, "shelf": "off"}}

LIST_PRODUCT_VERSIONS = {
    "200": {
        "items": [
            {
                "version": 2,
                "summary": "价格 189.00 → 199.00",
                "changed_by": 1,
                "created_at": "2026-12-06T08:00:00",
                "snapshot": {},
            },
        ],
    },
}

CHANGE_SKU_STOCK = {
    "request": {"operation": "in", "quantity": 50, "reason": "到货入库"},
    "200": {"sku_code": "TEA-250G", "on_hand": 170, "reserved": 3, "available": 167},
}

LIST_SKU_STOCK_MOVEMENTS = {
    "200": {
        "items": [
            {
                "movement_id": 301,
                "kind": "in",
                "on_hand_delta": 50,
                "reserved_delta": 0,
                "on_hand_after": 170,
                "reserved_after": 3,
                "order_id": None,
                "operator_id": 1,
                "reason": "到货入库",
                "created_at": "2026-12-07T01:00:00",
            },
        ],
        "total": 1,
    },
}

LIST_PRODUCT_CATEGORIES = {
    "200": {
        "items": [
            {
                "category_id": 1,
                "name": "茶叶",
                "parent_id": None,
                "children": [{"category_id": 2, "name": "绿茶", "parent_id": 1, "children": []}],
            },
        ],
    },
}

CREATE_PRODUCT_CATEGORY = {"request": {"name": "绿茶", "parent_id": 1}, "201": {"category_id": 2, "name": "绿茶", "parent_id": 1}}

LIST_PRODUCT_BRANDS = {"200": {"items": [{"brand_id": 1, "name": "西湖", "remark": ""}]}}

CREATE_PRODUCT_BRAND = {"request": {"name": "西湖", "remark": "杭州产区"}, "201": {"brand_id": 1, "name": "西湖", "remark": "杭州产区"}}
