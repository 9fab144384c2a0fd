"""Browser story: a marketer opens a product's 目标客户群, adds a condition row (城市 = 上海) to the
宝妈 tag, previews the count, saves, and sees the target customer list (headless Chromium, no CSP
violations)."""
from __future__ import annotations

import pytest

from commerce.catalog.models import ProductSku, ProductSpu
from crm.customers.models import Customer
from tests.support.recommend_data import tagged


@pytest.mark.browser
def test_edit_preview_save_and_list(page, browser_login, app_db, admin_user, tmp_path):
    with app_db.write() as s:
        tags, _ = tagged(s, {"宝妈": 3}, [(Customer(name="张三", mobile="13800138000", city="上海"), ("宝妈",)),
                                         (Customer(name="李四", city="北京"), ("宝妈",)), (Customer(name="王五", city="上海"), ())])
        spu = ProductSpu(code="A", name="有机奶粉", shelf="on")
        s.add(spu)
        s.flush()
        s.add(ProductSku(spu_id=spu.id, code="A-1", price_fen=12900, on_hand=5))
        spu_id, mom_id = spu.id, tags["宝妈"]
    browser_login()
    page.goto(f"/products/{spu_id}/audience")
    page.wait_for_selector("[data-rule-editor]")
    assert "尚未设置目标客户群" in page.inner_text("[data-testid=audience-customers]")
    page.select_option("#rule-include", str(mom_id))
    page.click("[data-testid=audience-preview]")
    page.wait_for_selector("[data-testid=audience-preview-count]:has-text('共 2 位')")
    page.click("[data-add-condition]")
    row = page.locator("[data-conditions] tr").last
    row.locator("[data-col=field]").select_option("city")
    row.locator("[data-col=op]").select_option("eq")
    row.locator("[data-value=one]").fill("上海")
    page.click("[data-testid=audience-preview]")
    page.wait_for_selector("[data-testid=audience-preview-count]:has-text('共 1 位')")
    assert page.locator("[data-preview-rows] tr").first.inner_text().startswith("张三")
    page.click("[data-testid=audience-save]")
    page.wait_for_selector("[data-testid=audience-customers]:has-text('共 1 位')")
    listing = page.inner_text("[data-testid=audience-customers]")
    assert "张三" in listing and "李四" not in listing and "王五" not in listing
    # the saved rows come back into the editor
    assert page.locator("[data-conditions] tr [data-value=one]").input_value() == "上海"
    page.screenshot(path=str(tmp_path / "audience.png"), full_page=True)
    with app_db.read() as s:
        saved = s.get(ProductSpu, spu_id).audience
    assert saved["tag_ids"] == [mom_id] and saved["conditions"][0]["field"] == "city"
    # a bad row is named next to the conditions, nothing saved
    row = page.locator("[data-conditions] tr").last
    row.locator("[data-col=field]").select_option("")
    page.click("[data-testid=audience-save]")
    page.wait_for_selector("[data-error-for=rows]:not([hidden])")
    with app_db.read() as s:
        assert s.get(ProductSpu, spu_id).audience == saved


@pytest.mark.browser
def test_customer_detail_shows_recommendations(page, browser_login, app_db, admin_user, clock, tmp_path):
    from commerce.recommend import refresh

    with app_db.write() as s:
        tags, ids = tagged(s, {"宝妈": 3}, [(Customer(name="张三", mobile="13800138000", city="上海"), ("宝妈",))])
        for code, name, stock in (("A", "有机奶粉", 5), ("B", "婴儿推车", 0)):
            spu = ProductSpu(code=code, name=name, shelf="on", audience={"tag_ids": [tags["宝妈"]]},
                             link_url=f"https://shop.example.com/{code}")
            s.add(spu)
            s.flush()
            s.add(ProductSku(spu_id=spu.id, code=f"{code}-1", price_fen=12900, on_hand=stock))
        refresh.rebuild(s, clock.now())
    browser_login()
    page.goto(f"/customers/{ids[0]}")
    section = page.locator("[data-testid=customer-recommendations]")
    section.wait_for()
    rows = section.locator("[data-testid=recommendation]")
    assert rows.count() == 1
    assert "有机奶粉" in rows.first.inner_text() and "命中标签「宝妈」" in rows.first.inner_text()
    assert "婴儿推车" not in section.inner_text()
    page.screenshot(path=str(tmp_path / "detail.png"), full_page=True)
