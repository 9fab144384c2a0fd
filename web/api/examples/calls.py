"""Examples of the /api routes in web/api/calls.py (request body and answers by status), shown in the
OpenAPI document and Swagger UI; names follow the operationIds."""

CALL_TASK = {
    "task_id": 4,
    "name": "十二月沉默线索回访",
    "status": "running",
    "status_label": "进行中",
    "source": "leads",
    "filters": {"status": "NEW"},
    "seat_user_ids": [3, 5],
    "window": "09:00-18:00",
    "max_attempts": 3,
    "retry_minutes": 60,
    "retry_on": ["no_answer", "busy"],
    "script": "您好，我是存客宝的顾问……",
    "created_at": "2026-12-07T01:00:00",
    "started_at": "2026-12-07T01:05:00",
    "finished_at": None,
    "progress": {"total": 120, "called": 45, "connected": 30},
}

CALL_RECORD = {
    "record_id": 901,
    "call_id": "c-7f3a",
    "task_id": 4,
    "seat_user_id": 3,
    "lead_id": 3310,
    "customer_id": 501,
    "mobile": "138****8000",
    "status": "ended",
    "result": "connected",
    "result_label": "已接通",
    "started_at": "2026-12-07T02:10:00",
    "answered_at": "2026-12-07T02:10:08",
    "ended_at": "2026-12-07T02:11:43",
    "duration_seconds": 95,
    "intent": "A",
    "notes": "有意向，下周到店",
    "error": "",
    "has_recording": True,
    "recording_error": "",
}

LIST_CALL_TASKS = {"200": {"items": [CALL_TASK]}}

CREATE_CALL_TASK = {
    "request": {
        "name": "十二月沉默线索回访",
        "source": "leads",
        "filters": {"status": "NEW"},
        "seat_user_ids": [3, 5],
        "window": "09:00-18:00",
        "max_attempts": 3,
    },
    "201": CALL_TASK,
}

GET_CALL_TASK = {"200": CALL_TASK}

SET_CALL_TASK_STATUS = {"request": {"status": "paused"}, "200": {**CALL_TASK, "status": "paused"}}

LIST_CALL_RECORDS = {"200": {"items": [CALL_RECORD], "total": 1}}

GET_CALL_RECORD = {"200": CALL_RECORD}

DOWNLOAD_CALL_RECORDING = {"404": {"error": {"code": "not_found", "message": "通话记录 901 没有录音", "fields": {}, "details": []}}}
