"""Browser story: a marketer writes the rule of 可投资资产10万-50万 (可投资资产 > 100000 并且 <= 500000),
previews the matching customers, saves, ticks the tag and clicks 自动打标签, and watches the job
finish (headless Chromium, no CSP violations)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from crm.customers.models import Customer, CustomField
from crm.jobs.runner import JobRunner
from crm.tags import categories, service
from crm.tags.models import CustomerTag


@pytest.mark.browser
def test_auto_tag_with_preview(page, browser_login, app, app_db, admin_user):
    with app_db.write() as s:
        s.add(CustomField(key="investable_assets", label="可投资资产", type="number"))
        s.add_all([Customer(name="张三", mobile="13800138000", attrs={"investable_assets": 200000}),
                   Customer(name="李四", mobile="13900139000", attrs={"investable_assets": 900000}),
                   Customer(name="王五", attrs={"investable_assets": 100000})])
        cat = categories.create_category(s, {"name": "可投资资产"})
        tag_id = service.create_tag(s, {"name": "可投资资产10万-50万", "kind": "auto", "category_id": cat.id,
                                        "score": 2}, None).id
    browser_login()
    page.goto("/tags")
    page.click(f"[data-testid=rule-{tag_id}]")
    page.wait_for_selector("[data-rule-editor]")
    for op, value in (("gt", "100000"), ("lte", "500000")):
        page.click("[data-add-condition]")
        row = page.locator("[data-conditions] tr").last
        row.locator("[data-col=field]").select_option("investable_assets")
        row.locator("[data-col=op]").select_option(op)
        row.locator("[data-value=one]").fill(value)
    page.click("[data-testid=rule-preview]")
    page.wait_for_selector("[data-preview-count]:has-text('共 1 位')")
    assert page.locator("[data-preview-rows] tr").first.inner_text().startswith("张三")
    page.click("[data-testid=rule-save]")
    page.wait_for_url("**/tags?category=*")
    page.check(f"input[data-tag-check][value='{tag_id}']")
    page.click("[data-testid=batch-autotag]")
    page.wait_for_selector("[data-testid=tag-job]")
    JobRunner(app.extensions["ckb"].services).run_pending()
    page.wait_for_selector("[data-job-text]:has-text('新增 1 条')", timeout=15_000)
    with app_db.read() as s:
        assert list(s.scalars(select(CustomerTag.customer_id).where(CustomerTag.tag_id == tag_id))) == [1]
    page.goto("/tags/history?start=2000-01-01&end=2100-01-01")
    assert page.locator("td:has-text('可投资资产10万-50万')").count() == 1
