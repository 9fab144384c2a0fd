"""Examples of the /api routes in web/api/messages.py (request body and answers by status), shown in the
OpenAPI document and Swagger UI; names follow the operationIds."""

SEARCH_MESSAGES = {
    "200": {
        "items": [
            {
                "message_id": 7001,
                "conversation_id": 31,
                "conversation_title": "李女士",
                "conversation_kind": "private",
                "account_id": 2,
                "friend_id": 88,
                "customer_id": 501,
                "direction": "in",
                "msg_type": "text",
                "sender_name": "李女士",
                "text": "请问发货了吗",
                "title": "",
                "sent_at": "2026-12-07T03:20:00",
                "snippet": [{"text": "请问", "match": False}, {"text": "发货", "match": True}],
            },
        ],
        "page": 1,
        "per_page": 20,
        "has_more": False,
        "total": 1,
        "total_capped": False,
    },
}
