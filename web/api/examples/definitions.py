"""Examples of the /api routes in web/api/definitions.py (request body and answers by status), shown in the
OpenAPI document and Swagger UI; names follow the operationIds."""

DEFINITION = {
    "id": 7,
    "code": "order_paid",
    "name": "订单已支付",
    "enabled": True,
    "remark": "商城回调",
    "fields": [
        {"name": "orderNo", "type": "text", "label": "订单号", "required": True},
        {"name": "amount", "type": "number", "label": "金额", "required": True},
    ],
    "builtin_key": None,
    "version": 1,
    "created_at": "2026-12-01T02:00:00",
    "updated_at": "2026-12-01T02:00:00",
}

DEFINITION_REQUEST = {
    "code": "order_paid",
    "name": "订单已支付",
    "enabled": True,
    "fields": [
        {"name": "orderNo", "type": "text", "label": "订单号", "required": True},
        {"name": "amount", "type": "number", "label": "金额", "required": True},
    ],
}

APP = {
    "id": 2,
    "name": "官方商城",
    "app_key": "ak_9f2c4e",
    "ip_allowlist": ["203.0.113.0/24"],
    "enabled": True,
    "remark": "",
    "secret_rotating_until": None,
    "created_at": "2026-12-01T02:00:00",
    "updated_at": "2026-12-01T02:00:00",
}

LIST_EVENT_DEFINITIONS = {"200": {"items": [DEFINITION]}}

CREATE_EVENT_DEFINITION = {"request": DEFINITION_REQUEST, "201": DEFINITION}

GET_EVENT_DEFINITION = {"200": DEFINITION}

UPDATE_EVENT_DEFINITION = {
    "request": {**DEFINITION_REQUEST, "confirm": True},
    "200": {**DEFINITION, "version": 2},
    "409": {
        "error": {
            "code": "breaks_strategies",
            "message": "修改会影响已启用的策略，确认后请带 confirm=true 重新提交",
            "fields": {},
            "details": [{"strategy_id": 5, "name": "支付后发券", "problems": ["第 1 步引用的字段 amount 已删除"]}],
        },
    },
}

DELETE_EVENT_DEFINITION = {
    "200": {"deleted": 7},
    "409": {
        "error": {"code": "in_use", "message": "事件被 1 条策略使用，不能删除", "fields": {}, "details": [{"id": 5, "name": "支付后发券"}]},
    },
}

IMPORT_BUILTIN_EVENT_DEFINITIONS = {"200": {"created": ["customer_added", "order_paid"], "skipped": ["password_changed"]}}

ENABLE_EVENT_DEFINITIONS = {"request": {"ids": [7, 8], "enabled": False}, "200": {"changed": 2}}

COPY_EVENT_DEFINITIONS = {
    "request": {"ids": [7]},
    "200": {"items": [{**DEFINITION, "id": 9, "code": "order_paid_copy", "name": "订单已支付（副本）", "enabled": False}]},
}

LIST_APPS = {"200": {"items": [APP]}}

CREATE_APP = {
    "request": {"name": "官方商城", "ip_allowlist": ["203.0.113.0/24"], "enabled": True},
    "201": {**APP, "secret": "sk_只显示这一次_3b9d…"},
}

UPDATE_APP = {"request": {"name": "官方商城", "ip_allowlist": [], "enabled": True}, "200": {**APP, "ip_allowlist": []}}

DELETE_APP = {"200": {"deleted": 2}}

ROTATE_APP_SECRET = {"200": {"secret": "sk_新密钥只显示这一次_71ce…", "grace_hours": 24}}
