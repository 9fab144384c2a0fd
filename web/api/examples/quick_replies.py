"""Examples of the /api routes in web/api/quick_replies.py (request body and answers by status), shown in the
OpenAPI document and Swagger UI; names follow the operationIds."""

LIST_QUICK_REPLIES = {
    "200": {
        "items": [
            {
                "id": 5,
                "title": "发货时间",
                "category": "售后",
                "category_id": 2,
                "template": "您好${name}，订单将在 48 小时内发出",
                "text": "您好李女士，订单将在 48 小时内发出",
                "attachments": [],
                "send_count": 37,
            },
        ],
    },
}
