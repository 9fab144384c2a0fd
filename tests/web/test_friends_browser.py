"""Browser story: an operator searches the chat messages for a two-character word, sees the hits
highlighted, opens the friend from a hit, reads the friend's page (profile, CRM tags, groups in
common, conversation, moments) and links the friend to another customer (headless Chromium, no CSP
violations). Screenshots go to var/screenshots for a human look."""
from __future__ import annotations

from pathlib import Path

import pytest

from crm.customers.models import Customer
from devices.models import Friend
from tests.web.test_friends_pages import world  # noqa: F401 - the fixture

SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


@pytest.mark.browser
def test_search_then_friend_page_then_link(page, browser_login, app_db, world):  # noqa: F811
    SHOTS.mkdir(parents=True, exist_ok=True)
    browser_login()
    page.goto("/chat/search")
    page.fill("input[name=q]", "价格")
    page.click("form[role=search] button[type=submit]")
    page.wait_for_selector(".cs-hit")
    assert page.locator(".cs-hit").count() == 3
    assert page.locator(".cs-snippet mark").first.inner_text() == "价格"
    page.screenshot(path=str(SHOTS / "chat_search.png"), full_page=True)
    page.locator(".cs-hit", has_text="请问").locator("a.friend-link").click()
    page.wait_for_url(f"**/friends/{world['li']}")
    for text in ("李总", "高意向", "宝妈交流群", "请问价格多少？", "今天去看了新房"):
        assert page.locator(f"text={text}").count() >= 1, text
    page.screenshot(path=str(SHOTS / "friend_detail.png"), full_page=True)
    page.once("dialog", lambda d: d.accept())
    page.click("button:has-text('解除关联')")
    page.wait_for_selector("[data-confirm-ok]", state="visible")
    page.click("[data-confirm-ok]")
    page.wait_for_selector("text=已解除与客户档案的关联")
    page.fill("input[name=customer_q]", "王五")
    page.click("button:has-text('查找客户')")
    page.wait_for_selector(".fr-choices li:has-text('王五新客')")
    page.click(".fr-choices li:has-text('王五新客') button:has-text('关联')")
    page.wait_for_selector("text=已关联客户档案")
    with app_db.read() as s:
        spare = s.get(Customer, world["spare"])
        assert s.get(Friend, world["li"]).customer_id == spare.id
    page.screenshot(path=str(SHOTS / "friend_linked.png"), full_page=True)
