"""Browser: UI 模板管理 — add a template with two list columns and a 查询模板 field, see its preview."""
from __future__ import annotations

from pathlib import Path

import pytest


@pytest.mark.browser
def test_add_ui_template(page, browser_login, admin_user):
    browser_login()
    page.goto("/ui-templates")
    page.click("[data-testid=ui-template-new]")
    page.fill("#f-code", "customer_list")
    page.fill("#f-name", "客户档案列表")
    page.check("input[name=col_name]")
    page.check("input[name=col_city]")
    page.check("input[name=query_city]")
    page.click("[data-testid=ui-template-form] button[type=submit]")
    page.wait_for_selector("[data-testid=ui-template-preview]:has-text('示例客户')")
    Path("/tmp/ckb_shots").mkdir(parents=True, exist_ok=True)
    page.screenshot(path="/tmp/ckb_shots/ui_template.png", full_page=True)
    page.goto("/ui-templates?q=customer")
    assert page.locator("td:has-text('customer_list')").count() == 1
