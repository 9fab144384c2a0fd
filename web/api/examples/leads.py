"""Examples of the /api routes in web/api/leads.py (request body and answers by status), shown in the
OpenAPI document and Swagger UI; names follow the operationIds."""

LEAD = {
    "lead_id": 3310,
    "external_lead_id": "form-88231",
    "status": "ASSIGNED",
    "status_label": "已分配",
    "substatus": "",
    "acquisition_scene_id": 2,
    "scene_name": "官网表单",
    "scene_type": "WEB_FORM",
    "source_channel_id": 1,
    "channel_name": "抖音信息流",
    "plan_id": None,
    "name": "王先生",
    "mobile": "138****8000",
    "email": None,
    "region": "浙江 杭州",
    "value": 0,
    "lead_data": {"company": "某某公司"},
    "tags": [{"id": 9, "name": "官网表单"}],
    "assigned_to_user_id": 3,
    "assignee_name": "张三",
    "assigned_to_team_id": None,
    "assignment_time": "2026-12-07T02:00:05",
    "related_customer_id": 501,
    "customer_is_new": True,
    "duplicate_of_id": None,
    "notes": "",
    "error": "",
    "responded_at": None,
    "created_at": "2026-12-07T02:00:00",
    "updated_at": "2026-12-07T02:00:05",
}

LIST_LEADS = {"200": {"items": [LEAD], "total": 1, "page": 1, "size": 20}}

GET_LEAD = {"200": LEAD}

UPDATE_LEAD = {
    "request": {"status": "PROCESSING", "notes": "已电话沟通，周五回访"},
    "200": {**LEAD, "status": "PROCESSING", "notes": "已电话沟通，周五回访"},
}

ASSIGN_LEAD = {"request": {"user_id": 5}, "200": {**LEAD, "assigned_to_user_id": 5}}
