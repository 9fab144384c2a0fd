"""Examples of the /api routes in web/api/ingest.py (request body and answers by status), shown in the
OpenAPI document and Swagger UI; names follow the operationIds."""

INGEST_EVENTS = {
    "request": {
        "id": "pay-20261207-0001",
        "event": "order_paid",
        "occurred_at": "2026-12-07T10:20:00+08:00",
        "data": {"orderNo": "E20261207001", "amount": 199.0, "mobile": "13912345678"},
    },
    "202": {
        "accepted": [{"index": 0, "id": "pay-20261207-0001", "record_id": 10452}],
        "duplicates": [],
        "rejected": [],
    },
    "422": {
        "error": {
            "code": "invalid",
            "message": "事件校验不通过：缺少必填字段 订单号（orderNo）",
            "fields": {"data.orderNo": "缺少必填字段 订单号（orderNo）"},
            "details": [{"field": "data.orderNo", "code": "required", "message": "缺少必填字段 订单号（orderNo）"}],
        },
    },
}
