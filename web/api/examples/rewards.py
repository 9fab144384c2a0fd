"""Examples of the /api routes in web/api/rewards.py (request body and answers by status), shown in the
OpenAPI document and Swagger UI; names follow the operationIds."""

REDEEM_COUPON = {
    "request": {"code": "CKB-7Q2M-9XZP", "note": "门店核销"},
    "200": {
        "id": 3,
        "code": "CKB-7Q2M-9XZP",
        "batch_id": 1,
        "customer_id": 501,
        "status": "redeemed",
        "valid_until": "2026-12-31T15:59:59+00:00",
        "redeemed_at": "2026-12-07T03:00:00+00:00",
        "redeem_channel": "api",
    },
}

GET_CUSTOMER_POINTS = {
    "200": {
        "customer_id": 501,
        "balance": 320,
        "entries": [
            {
                "id": 77,
                "kind": "earn",
                "delta": 20,
                "balance_after": 320,
                "reason": "群打卡",
                "source": "checkin",
                "created_at": "2026-12-07T01:00:00+00:00",
            },
        ],
    },
}

ADJUST_CUSTOMER_POINTS = {"request": {"delta": -100, "reason": "兑换礼品"}, "201": {"entry_id": 78, "balance": 220}}
