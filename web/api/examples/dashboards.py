"""Examples of the /api routes in web/api/dashboards.py (request body and answers by status), shown in the
OpenAPI document and Swagger UI; names follow the operationIds."""

GET_DASHBOARD_OVERVIEW = {
    "200": {
        "start": "2026-12-01",
        "end": "2026-12-07",
        "scope": {"dim": "company", "ids": []},
        "groups": 12,
        "users": 8,
        "customers": 5320,
        "friends": 4810,
        "active_last": 1302,
        "active_avg": 1188.4,
        "gmv_fen": 12800000,
        "refund_fen": 350000,
        "buyers": 410,
        "orders_paid": 468,
        "conversion": {},
        "trends": {},
        "contribution": {},
        "segments": {},
        "totals_as_of": "2026-12-07T05:00:00",
    },
}

GET_DASHBOARD_FUNNEL = {
    "200": {
        "steps": [{"key": "lead", "label": "线索", "count": 1200}, {"key": "friend", "label": "加好友", "count": 860}],
        "median_hours": {"friend": 5.5},
        "cohorts": {},
        "computed_at": "2026-12-07T05:00:00",
    },
}

GET_DASHBOARD_RFM = {
    "200": {
        "segments": [{"key": "champions", "label": "重要价值客户", "count": 210, "segment": {"kind": "rfm", "key": "champions"}}],
        "computed_at": "2026-12-07T05:00:00",
        "cuts": {},
    },
}
