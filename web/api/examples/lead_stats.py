"""Examples of the /api routes in web/api/lead_stats.py (request body and answers by status), shown in the
OpenAPI document and Swagger UI; names follow the operationIds."""

GET_LEAD_STATISTICS = {
    "200": {
        "period": {"start": "2026-12-01", "end": "2026-12-07"},
        "days": ["2026-12-01", "2026-12-02"],
        "total": 1200,
        "daily": [160, 172],
        "converted": 200,
        "conversion_rate": 16.7,
        "duplicates": 35,
        "duplicate_ratio": 2.9,
        "existing": 80,
        "existing_ratio": 6.7,
        "latency": {"count": 1100, "avg": 42.0, "p50": 30.0, "p90": 95.0},
        "funnel": [],
        "statuses": {"NEW": 300, "ASSIGNED": 700},
        "dead_letters": 0,
        "rejections": 4,
        "scenes": [],
        "channels": [],
    },
}
