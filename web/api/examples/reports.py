"""Examples of the /api routes in web/api/reports.py (request body and answers by status), shown in the
OpenAPI document and Swagger UI; names follow the operationIds."""

REPORT = {
    "period": {"kind": "day", "key": "2026-12-07", "first": "2026-12-07", "last": "2026-12-07", "label": "2026年12月07日"},
    "scope": {"dim": "user", "id": 3, "name": "张三"},
    "kpis": [
        {
            "key": "new_friends",
            "label": "新增好友数",
            "unit": "人",
            "actual": 112,
            "target": 100,
            "achieved": 112.0,
            "previous": 98,
            "mom": 14.3,
            "year_ago": None,
            "yoy": None,
            "money": False,
            "rate": False,
            "definition": "当天新加为我方微信号好友的人数（同一人加了多个微信号只计一次）",
        },
    ],
    "more": [],
    "trend": {"new_friends": [{"day": "2026-12-07", "value": 112}]},
    "ranking": [],
    "review": None,
}

GET_DAILY_REPORT = {"200": REPORT}

GET_WEEKLY_REPORT = {
    "200": {
        **REPORT,
        "period": {"kind": "week", "key": "2026-W49", "first": "2026-11-30", "last": "2026-12-06", "label": "2026年第49周"},
    },
}

GET_MONTHLY_REPORT = {
    "200": {
        **REPORT,
        "period": {"kind": "month", "key": "2026-12", "first": "2026-12-01", "last": "2026-12-31", "label": "2026年12月"},
    },
}
