"""Examples of the /api routes in web/api/broadcasts.py (request body and answers by status), shown in the
OpenAPI document and Swagger UI; names follow the operationIds."""

BROADCAST = {
    "id": 12,
    "name": "双十二老客回访",
    "scene": "promotion",
    "status": "scheduled",
    "target": {"tag_ids": [3]},
    "content": {"kind": "text", "text": "老朋友专享价今晚截止"},
    "summary": "标签「老客」· 320 人",
    "scheduled_at": "2026-12-12T12:00:00",
    "started_at": None,
    "finished_at": None,
    "recipient_count": 320,
    "gap_min_seconds": 3,
    "gap_max_seconds": 10,
    "reason": "",
    "counts": {"pending": 320, "queued": 0, "deferred": 0, "sent": 0, "failed": 0, "skipped": 0},
}

CREATE_BROADCAST = {
    "request": {
        "name": "双十二老客回访",
        "scene": "promotion",
        "target": {"tag_ids": [3]},
        "content": {"kind": "text", "text": "老朋友专享价今晚截止"},
        "scheduled_at": "2026-12-12 20:00",
    },
    "201": BROADCAST,
}

GET_BROADCAST = {"200": BROADCAST}

LIST_BROADCAST_RECIPIENTS = {
    "200": {
        "items": [
            {
                "friend_id": 88,
                "account_id": 2,
                "wxid": "wxid_abc123",
                "nickname": "李女士",
                "customer_id": 501,
                "status": "sent",
                "reason": "",
                "command_id": 9031,
                "due_at": "2026-12-12T12:00:05",
                "updated_at": "2026-12-12T12:00:09",
            },
        ],
        "total": 1,
        "page": 1,
        "size": 50,
    },
}

CANCEL_BROADCAST = {"200": {**BROADCAST, "status": "cancelled"}}
