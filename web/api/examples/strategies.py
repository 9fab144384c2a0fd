"""Examples of the /api routes in web/api/strategies.py (request body and answers by status), shown in the
OpenAPI document and Swagger UI; names follow the operationIds."""

GROUP = {"id": 1, "name": "新客欢迎", "position": 0}

STRATEGY = {
    "id": 5,
    "name": "支付后发券",
    "group_id": 1,
    "event_id": 7,
    "enabled": False,
    "position": 0,
    "starts_at": None,
    "ends_at": None,
    "conditions": [{"lparen": 0, "field": "amount", "op": "gte", "value": 100, "rparen": 0, "join": "and"}],
    "steps": [{"processor": "crm.add_tag", "config": {"tag": "已购"}, "timing": {"mode": "immediate"}}],
    "remark": "",
    "version": 1,
    "created_by": "admin",
    "created_at": "2026-12-07T02:00:00",
    "updated_at": "2026-12-07T02:00:00",
}

STRATEGY_REQUEST = {
    "name": "支付后发券",
    "group_id": 1,
    "event_id": 7,
    "conditions": [{"lparen": 0, "field": "amount", "op": "gte", "value": 100, "rparen": 0, "join": "and"}],
    "steps": [{"processor": "crm.add_tag", "config": {"tag": "已购"}, "timing": {"mode": "immediate"}}],
}

LIST_STRATEGY_GROUPS = {"200": {"items": [GROUP]}}

CREATE_STRATEGY_GROUP = {"request": {"name": "新客欢迎"}, "201": GROUP}

RENAME_STRATEGY_GROUP = {"request": {"name": "新客欢迎（12月）"}, "200": {**GROUP, "name": "新客欢迎（12月）"}}

DELETE_STRATEGY_GROUP = {"200": {"deleted": 1}}

REORDER_STRATEGY_GROUPS = {"request": {"ids": [3, 1, 2]}, "200": {"order": [3, 1, 2]}}

LIST_STRATEGIES = {"200": {"items": [STRATEGY]}}

CREATE_STRATEGY = {"request": STRATEGY_REQUEST, "201": STRATEGY}

GET_STRATEGY = {"200": STRATEGY}

UPDATE_STRATEGY = {"request": STRATEGY_REQUEST, "200": {**STRATEGY, "version": 2}}

DELETE_STRATEGY = {"200": {"deleted": 5, "cancelled_tasks": 3}}

ENABLE_STRATEGIES = {"request": {"ids": [5], "enabled": True}, "200": {"changed": 1, "cancelled_tasks": 0}}

COUNT_PENDING_TASKS = {"request": {"ids": [5]}, "200": {"pending": 12}}

REORDER_STRATEGIES = {"request": {"group_id": 1, "ids": [6, 5]}, "200": {"order": [6, 5]}}

TEST_STRATEGY = {
    "request": {"strategy_id": 5, "sample": {"orderNo": "E1", "amount": 199}},
    "200": {
        "valid": True,
        "matched": True,
        "trace": [{"row": 1, "field": "amount", "op": "gte", "value": 100, "actual": 199, "result": True}],
        "steps": [{"index": 0, "processor": "crm.add_tag", "timing": "immediate"}],
        "data": {"orderNo": "E1", "amount": 199.0},
    },
}

BACKTEST_STRATEGY = {
    "request": {"strategy_id": 5, "since": "2026-11-30", "until": "2026-12-07"},
    "200": {"total": 820, "matched": 312, "ratio": 0.3805, "examples": [], "truncated": False},
}

LIST_STRATEGY_VERSIONS = {
    "200": {
        "items": [
            {
                "version": 2,
                "changed_by": "admin",
                "changed_at": "2026-12-07T03:00:00",
                "summary": "条件：金额 ≥ 100 → ≥ 150",
                "snapshot": {},
            },
        ],
    },
}

DIFF_STRATEGY_VERSION = {"200": {"changes": [{"field": "conditions", "label": "条件", "old": "金额 ≥ 100", "new": "金额 ≥ 150"}]}}

ROLLBACK_STRATEGY = {"request": {"version": 1}, "200": {**STRATEGY, "version": 3}}

EXPORT_BUNDLE = {
    "request": {"strategy_ids": [5]},
    "200": {
        "format": "cunkebao-bundle/1",
        "exported_at": "2026-12-07T11:00:00+08:00",
        "events": [],
        "processors": [],
        "strategies": [],
    },
}

IMPORT_BUNDLE = {
    "request": {"format": "cunkebao-bundle/1", "events": [], "processors": [], "strategies": []},
    "200": {"created": ["策略 支付后发券"], "updated": [], "refused": []},
}
