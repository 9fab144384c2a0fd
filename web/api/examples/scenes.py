"""Examples of the /api routes in web/api/scenes.py (request body and answers by status), shown in the
OpenAPI document and Swagger UI; names follow the operationIds."""

SCENE = {
    "scene_config_id": 2,
    "scene_name": "官网表单",
    "scene_key": "web-main",
    "scene_type": "WEB_FORM",
    "scene_type_label": "网页表单",
    "is_enabled": True,
    "source_channel_default_id": 1,
    "scene_specific_params": {},
    "data_mapping_rules": [],
    "auto_tagging_rules": [],
    "assignment_rules": {},
    "auto_response_config": {},
    "deduplication_strategy": "mobile",
    "rate_limit_per_minute": 120,
    "event_code": "lead_web_form",
    "strategy_id": 12,
    "webhook_path": "/webhooks/web_form?scene=web-main",
    "webhook_paths": ["/webhooks/web_form?scene=web-main"],
    "has_secret": True,
    "has_credentials": False,
    "version": 1,
    "created_at": "2026-12-01T02:00:00",
}

CHANNEL = {
    "channel_id": 1,
    "name": "抖音信息流",
    "channel_type": "PAID_SOCIAL",
    "channel_type_label": "付费社交",
    "code": "douyin-feed",
    "is_active": True,
    "remark": "",
    "created_at": "2026-12-01T02:00:00",
    "updated_at": "2026-12-01T02:00:00",
}

LIST_SCENE_CONFIGURATIONS = {"200": {"items": [SCENE]}}

CREATE_SCENE_CONFIGURATION = {
    "request": {"scene_name": "官网表单", "scene_key": "web-main", "scene_type": "WEB_FORM", "is_enabled": True},
    "201": {**SCENE, "webhook_secret": "whs_只显示这一次_a1b2…"},
}

GET_SCENE_CONFIGURATION = {"200": SCENE}

UPDATE_SCENE_CONFIGURATION = {"request": {"scene_name": "官网表单（新版）"}, "200": {**SCENE, "scene_name": "官网表单（新版）"}}

DELETE_SCENE_CONFIGURATION = {"200": {"deleted": 2}}

ROTATE_SCENE_SECRET = {"200": {"scene_config_id": 2, "webhook_secret": "whs_新密钥只显示这一次_c3d4…"}}

LIST_LEAD_CHANNELS = {"200": {"items": [CHANNEL]}}

CREATE_LEAD_CHANNEL = {"request": {"name": "抖音信息流", "channel_type": "PAID_SOCIAL", "code": "douyin-feed"}, "201": CHANNEL}

GET_LEAD_CHANNEL = {"200": CHANNEL}

UPDATE_LEAD_CHANNEL = {"request": {"is_active": False}, "200": {**CHANNEL, "is_active": False}}

DELETE_LEAD_CHANNEL = {"200": {"deleted": 1}}
