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
    # Swagger UI renders only the sections near the viewport (a long document is virtualised):
    # scroll through the page and collect every operation id it shows on the way.
    seen: set[str] = set()
    page.wait_for_selector(".opblock")
    height = page.evaluate("document.body.scrollHeight")
    for y in range(0, height + 900, 450):
        page.evaluate(f"window.scrollTo(0, {y})")
        page.wait_for_timeout(60)
        seen.update(t.strip() for t in page.locator(".opblock-summary-operation-id").all_inner_texts())
    assert seen == {r.operation_id for r in ROUTES}, sorted({r.operation_id for r in ROUTES} ^ seen)[:20]

    page.evaluate("window.scrollTo(0, 0)")
    page.click(".swagger-ui .btn.authorize")
    page.fill(".auth-container input[type=text]", token)
    page.click(".auth-btn-wrapper .btn.modal-btn.auth.authorize")
    page.click(".btn-done")

    op = page.locator(".opblock", has=page.locator(".opblock-summary-operation-id:has-text('listStrategyGroups')"))
    for y in range(0, height + 900, 450):  # bring its section into view so it is rendered
        if op.count():
            break
        page.evaluate(f"window.scrollTo(0, {y})")
        page.wait_for_timeout(60)
    op.scroll_into_view_if_needed()
    op.locator(".opblock-summary").click()
    op.locator(".microlight").first.wait_for()  # the 200 example
    text = op.inner_text()
    assert "新客欢迎" in text, text[:2000]  # the 200 example
    assert '"fields"' in text and '"details"' in text  # the error envelope's example on the 4xx answers
    op.locator(".try-out__btn").click()
    op.locator(".execute").click()
    op.locator(".live-responses-table .response-col_status:has-text('200')").wait_for()
    page.screenshot(path=str(tmp_path / "api_docs.png"), full_page=False)
