"""Browser: /api/v1/docs renders every operation with vendored Swagger UI under the CSP (the `page`
fixture fails on any violation), shows an operation's example and error envelope, and "Try it
out" with a bearer token entered under Authorize calls the API on this origin."""
from __future__ import annotations

import pytest

from crm.people import service as people
from web.api.spec import ROUTES


@pytest.mark.browser
def test_api_docs_page_lists_operations_and_tries_one_with_a_token(page, app, app_db, admin_user, tmp_path):
    token = people.create_token(app_db, "admin", "文档页试用")
    page.goto("/api/v1/docs")
    page.wait_for_selector(".swagger-ui .info .title:has-text('存客宝 API')")
    page.wait_for_selector(".opblock")
    assert page.locator(".opblock").count() == len(ROUTES)
    assert page.locator(".opblock-summary-operation-id:has-text('listStrategyGroups')").count() == 1

    page.click(".swagger-ui .btn.authorize")
    page.fill(".auth-container input[type=text]", token)
    page.click(".auth-btn-wrapper .btn.modal-btn.auth.authorize")
    page.click(".btn-done")

    op = page.locator(".opblock", has=page.locator(".opblock-summary-operation-id:has-text('listStrategyGroups')"))
    op.locator(".opblock-summary").click()
    op.locator(".microlight").first.wait_for()  # the 200 example
    text = op.inner_text()
    assert "新客欢迎" in text, text[:2000]  # the 200 example
    assert '"fields"' in text and '"details"' in text  # the error envelope's example on the 4xx answers
    op.locator(".try-out__btn").click()
    op.locator(".execute").click()
    op.locator(".live-responses-table .response-col_status:has-text('200')").wait_for()
    page.screenshot(path=str(tmp_path / "api_docs.png"), full_page=False)
