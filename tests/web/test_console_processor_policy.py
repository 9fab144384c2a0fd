"""处理器注册中心 and issue 9 items 3 and 16: the form refuses variables in the host, takes a
retry schedule, shows a processor the server disabled after 410 Gone, and re-enables it."""
from __future__ import annotations

import pytest

from handlers.definitions import GONE_REASON, create_definition, disable_gone, get_definition

FORM = {"name": "推送到 CRM", "method": "POST", "timeout_seconds": "10", "enabled": "1", "remark": "",
        "param_name": [""], "param_value": [""], "param_remark": [""], "param_fixed": ["0"],
        "header_name": ["Authorization"], "header_value": ["Bearer s3cret"], "body": ""}


@pytest.fixture
def admin(client, admin_user, login, csrf_token):
    login(client)
    return csrf_token(client, "/processors")


def test_form_refuses_a_variable_in_the_host(client, admin):
    resp = client.post("/processors/new", data={**FORM, "csrf_token": admin, "url": "https://${host}/hook"})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "变量只能用在路径和查询参数值中" in page


def test_gone_processor_is_shown_and_re_enabled_with_a_schedule(client, admin, app_db, admin_user):
    definition = create_definition(app_db, {"name": "推送到 CRM", "url": "https://crm.example.com/hook/${id}"})
    disable_gone(app_db, definition.key, GONE_REASON)
    assert f"已停用：{GONE_REASON}" in client.get("/processors").get_data(as_text=True)
    edit = client.get(f"/processors/{definition.id}/edit").get_data(as_text=True)
    assert "系统已自动停用" in edit and "重试间隔" in edit
    resp = client.post(f"/processors/{definition.id}/edit", data={
        **FORM, "csrf_token": admin, "url": definition.url, "retry_schedule": "1m, 1h"})
    assert resp.status_code == 302
    saved = get_definition(app_db, definition.id)
    assert saved.enabled and saved.disabled_reason == "" and saved.retry_schedule == "1m, 1h"
