"""Examples of the /api routes in web/api/orders.py (request body and answers by status), shown in the
OpenAPI document and Swagger UI; names follow the operationIds."""

ORDER = {
    "id": 7,
    "order_no": "SO20261207A1B2C3D4E5",
    "status": "pending",
    "status_label": "待支付",
    "source": "api",
    "customer_id": 12,
    "customer_name": "张三",
    "credited_user_id": 3,
    "goods_fen": 1980,
    "discount_fen": 100,
    "total_fen": 1880,
    "paid_fen": 0,
    "refunded_fen": 0,
    "reserve_expires_at": "2026-12-07T03:30:00+00:00",
    "lines": [
        {
            "id": 1,
            "sku_code": "TEA-RED-500G",
            "name": "红茶",
            "quantity": 2,
            "unit_price_fen": 990,
            "amount_fen": 1980,
            "refunded_quantity": 0,
        },
    ],
    "transitions": [],
    "refunds": [],
}

CREATE_ORDER = {
    "request": {
        "customer_id": 501,
        "lines": [{"sku_code": "TEA-RED-500G", "quantity": 2}],
        "discount_fen": 100,
        "external_id": "mall-88231",
    },
    "201": ORDER,
}

LIST_ORDERS = {"200": {"items": [ORDER], "total": 1, "page": 1, "size": 20}}

GET_ORDER = {"200": ORDER}

TRANSITION_ORDER = {"request": {"action": "ship"}, "200": {**ORDER, "status": "shipped", "status_label": "已发货", "paid_fen": 1880}}

REFUND_ORDER = {
    "request": {"lines": [{"line_id": 1, "quantity": 1}], "restock": True, "reason": "七天无理由"},
    "201": {**ORDER, "status": "refunded", "refunded_fen": 1880},
}
