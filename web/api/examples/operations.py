"""Examples of the /api routes in web/api/operations.py (request body and answers by status), shown in the
OpenAPI document and Swagger UI; names follow the operationIds."""

PROCESSOR = {
    "id": 3,
    "key": "http:3",
    "name": "推送到 ERP",
    "method": "POST",
    "url": "https://erp.example.com/hooks/ckb",
    "params": [],
    "headers": [{"name": "X-Token", "value": "******"}],
    "body": "{\"order\": \"${orderNo}\"}",
    "timeout_seconds": 10,
    "remark": "",
    "enabled": True,
    "disabled_reason": "",
    "retry_schedule": "1m,5m,30m",
    "builtin": False,
    "created_at": "2026-12-01T02:00:00",
    "updated_at": "2026-12-01T02:00:00",
}

TASK = {
    "id": 5521,
    "event_record_id": 10452,
    "strategy_id": 5,
    "strategy_name": "支付后发券",
    "event_code": "order_paid",
    "step_index": 0,
    "processor_key": "crm.add_tag",
    "processor_name": "打标签",
    "timing": "immediate",
    "due_at": "2026-12-07T02:20:00",
    "status": "done",
    "attempts": 1,
    "max_attempts": 5,
    "last_error": "",
    "note": "",
    "rendered": {"tag": "已购"},
    "result": {"ok": True},
    "created_at": "2026-12-07T02:20:00",
    "finished_at": "2026-12-07T02:20:01",
}

RECORD = {
    "id": 10452,
    "event_code": "order_paid",
    "event_name": "订单已支付",
    "app_id": 2,
    "app_name": "官方商城",
    "source": "api",
    "external_id": "pay-20261207-0001",
    "occurred_at": "2026-12-07T02:20:00",
    "received_at": "2026-12-07T02:20:00",
    "status": "accepted",
    "reject_reason": "",
    "errors": [],
    "outcome": "matched",
    "outcome_label": "已匹配",
    "outcome_note": "",
    "matched_count": 1,
    "data": {"orderNo": "E20261207001", "amount": 199.0, "mobile": "138****8000"},
}

LIST_PROCESSORS = {
    "200": {
        "items": [
            {"key": "crm.add_tag", "name": "打标签", "kind": "builtin"},
            {"key": "http:3", "name": "推送到 ERP", "kind": "http"},
        ],
    },
}

LIST_PROCESSOR_DEFINITIONS = {"200": {"items": [PROCESSOR]}}

CREATE_PROCESSOR_DEFINITION = {
    "request": {
        "name": "推送到 ERP",
        "method": "POST",
        "url": "https://erp.example.com/hooks/ckb",
        "body": "{\"order\": \"${orderNo}\"}",
        "timeout_seconds": 10,
    },
    "201": PROCESSOR,
}

UPDATE_PROCESSOR_DEFINITION = {
    "request": {"name": "推送到 ERP", "method": "POST", "url": "https://erp.example.com/hooks/v2", "timeout_seconds": 15},
    "200": {**PROCESSOR, "url": "https://erp.example.com/hooks/v2", "timeout_seconds": 15},
}

DELETE_PROCESSOR_DEFINITION = {"200": {"deleted": 3}}

LIST_TASKS = {"200": {"items": [TASK], "total": 1}}

CANCEL_TASKS = {"request": {"ids": [5522, 5523]}, "200": {"cancelled": 2}}

REPLAY_DEAD_TASKS = {"request": {"ids": [5400]}, "200": {"replayed": 1}}

LIST_EVENT_RECORDS = {"200": {"items": [RECORD], "total": 1}}

GET_EVENT_RECORD = {
    "200": {
        **RECORD,
        "runs": [{"strategy_id": 5, "strategy_name": "支付后发券", "matched": True, "reason": "", "tasks": []}],
        "unmatched": [],
    },
}
