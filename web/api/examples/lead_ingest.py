"""Examples of the /api routes in web/api/lead_ingest.py (request body and answers by status), shown in the
OpenAPI document and Swagger UI; names follow the operationIds."""

INGEST_LEADS = {
    "request": {
        "scene_type": "WEB_FORM",
        "external_lead_id": "form-88231",
        "submission_data": {"name": "王先生", "phone": "13912345678", "company": "某某公司"},
        "meta": {"submission_url": "https://example.com/contact"},
    },
    "202": {"lead_id": 3310, "duplicate": False},
    "400": {
        "error": {
            "code": "invalid",
            "message": "线索校验不通过：缺少 submission_data（表单或平台提交的线索数据）",
            "fields": {"submission_data": "缺少 submission_data（表单或平台提交的线索数据）"},
            "details": [{"field": "submission_data", "message": "缺少 submission_data（表单或平台提交的线索数据）"}],
        },
    },
}
