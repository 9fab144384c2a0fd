"""Browser: import a file with an error row → the job finishes → the error sheet link appears
and downloads; the advanced filter panel filters the list."""
from __future__ import annotations

import pytest

from crm.customers import fields, service
from crm.jobs.runner import JobRunner
from tests.crm.customers.conftest import xlsx_bytes

pytestmark = pytest.mark.browser


def test_import_with_error_row_shows_error_sheet(page, app, app_db, admin_user, browser_login, tmp_path):
    with app_db.write() as s:
        fields.create_field(s, {"key": "aum", "label": "可投资资产", "type": "number"})
    upload = tmp_path / "客户.xlsx"
    upload.write_bytes(xlsx_bytes([["姓名", "手机号", "可投资资产"], ["张三", "13800138000", 600],
                                   ["坏行", "12345", 1]]))
    browser_login()
    page.goto("/imports")
    page.set_input_files("#f-file", str(upload))
    page.click("[data-testid=import-form] button[type=submit]")
    page.wait_for_load_state()
    assert "已提交导入任务" in page.content()
    JobRunner(app.extensions["ckb"].services).run_pending()  # the worker thread's job, done here
    page.reload()
    assert "新建 1，更新 0，失败 1" in page.content()
    link = page.locator("[data-testid^=job-result-]").first
    assert link.inner_text() == "错误明细"
    with page.expect_download() as info:
        link.click()
    assert info.value.suggested_filename.startswith("导入错误_")

    # The advanced filter panel: one condition row → only matching customers.
    with app_db.write() as s:
        service.create_customer(s, {"name": "李四", "mobile": "13900139000", "attrs": {"aum": 5}})
    page.goto("/customers")
    page.click("text=高级筛选")
    page.click("[data-add-condition]")
    row = page.locator("[data-conditions] tr").first
    row.locator('[data-col="field"]').select_option("aum")
    row.locator('[data-col="op"]').select_option("gt")
    row.locator('[data-value="one"]').fill("100")
    page.click("[data-adv-apply]")
    page.wait_for_load_state()
    table = page.locator("[data-testid=customer-table]").inner_text()
    assert "张三" in table and "李四" not in table
