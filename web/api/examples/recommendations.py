"""Examples of the /api routes in web/api/recommendations.py (request body and answers by status), shown in the
OpenAPI document and Swagger UI; names follow the operationIds."""

LIST_CUSTOMER_RECOMMENDATIONS = {
    "200": {
        "customer_id": 501,
        "built_at": "2026-12-07T05:00:00",
        "items": [
            {
                "spu_id": 40,
                "name": "明前龙井",
                "score": 0.82,
                "reasons": ["买过同类商品"],
                "signals": {},
                "price_fen": 19900,
                "link_url": "https://shop.example.com/p/40",
                "miniprogram": {},
                "bought_before": False,
            },
        ],
    },
}
