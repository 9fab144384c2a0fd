"""Browser story of the seed's product page: create an SPU with two spec dimensions → SKUs
generated → prices and stock set → search finds it → put on shelf (headless Chromium, no CSP
violations; screenshots under /tmp/ckb_shots/products)."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from commerce.catalog.models import ProductSku, ProductSpu

SHOTS = Path("/tmp/ckb_shots/products")


@pytest.mark.browser
def test_create_generate_price_search_and_shelve(page, browser_login, app_db, admin_user):
    SHOTS.mkdir(parents=True, exist_ok=True)
    browser_login()
    page.goto("/products")
    page.click("[data-testid=product-new]")
    page.fill("#f-code", "T100")
    page.fill("#f-name", "夏季纯棉T恤")
    page.fill("#f-description", "<b>亲肤</b> 透气")
    page.fill("#f-dim-0-name", "颜色")
    page.fill("#f-dim-0-values", "红、蓝")
    page.fill("#f-dim-1-name", "尺码")
    page.fill("#f-dim-1-values", "M、L")
    page.click("[data-testid=generate-skus]")
    page.wait_for_selector("[data-testid=sku-3-price]")
    assert page.locator("[data-testid=sku-table] tbody tr").count() == 4
    for i in range(4):
        page.fill(f"[data-testid=sku-{i}-price]", "99.90" if i < 2 else "109")
        page.fill(f"[data-testid=sku-{i}-stock]", str(10 + i))
        page.fill(f"[data-testid=sku-{i}-threshold]", "2")
    page.fill("[data-testid=sku-1-market]", "1.234")  # a bad price first: refused next to the field
    page.click("[data-testid=product-save]")
    page.wait_for_selector(".field-error:has-text('最多两位小数')")
    page.screenshot(path=str(SHOTS / "form_error.png"), full_page=True)
    page.fill("[data-testid=sku-1-market]", "129")
    page.click("[data-testid=product-save]")
    page.wait_for_selector("[data-testid=product-summary]")
    assert page.locator("[data-testid=product-description]").inner_text().startswith("<b>亲肤</b>")
    page.goto("/products?q=纯棉T")
    page.wait_for_selector("[data-testid=product-T100]")
    page.click("form.inline-form button:has-text('上架')")
    page.wait_for_selector(".badge:has-text('已上架')")
    page.screenshot(path=str(SHOTS / "list_on_shelf.png"), full_page=True)
    page.click("[data-testid=product-T100]")
    page.wait_for_selector("[data-testid=version-2]")
    page.screenshot(path=str(SHOTS / "detail.png"), full_page=True)
    with app_db.read() as s:
        spu = s.exec(select(ProductSpu)).one()
        skus = s.exec(select(ProductSku).order_by(ProductSku.id)).all()
    assert spu.shelf == "on"
    assert [k.price_fen for k in skus] == [9990, 9990, 10900, 10900] and [k.on_hand for k in skus] == [10, 11, 12, 13]
    assert skus[1].market_price_fen == 12900


@pytest.mark.browser
def test_catalog_tree_and_stock_receipt(page, browser_login, app_db, admin_user):
    from tests.commerce.catalog_fixtures import create, tee

    SHOTS.mkdir(parents=True, exist_ok=True)
    create(app_db, tee())
    browser_login()
    page.goto("/products/catalog")
    page.fill("#new-category-name", "服装")
    page.click("[data-testid=category-new] button[type=submit]")
    page.wait_for_selector("[data-testid=category-tree] li:has-text('服装')")
    page.fill("#new-category-name", "T恤")
    page.select_option("[data-testid=category-new] select", label="服装")
    page.click("[data-testid=category-new] button[type=submit]")
    page.fill("#new-brand-name", "优衣")
    page.click("[data-testid=brand-new] button[type=submit]")
    page.wait_for_selector("[data-testid=brand-list] li:has-text('优衣')")
    page.screenshot(path=str(SHOTS / "catalog.png"), full_page=True)
    page.goto("/stock")
    page.select_option("#f-operation", "in")
    page.fill("#f-sku_code", "T100-RM")
    page.fill("#f-quantity", "20")
    page.fill("#f-reason", "采购入库")
    page.click("[data-testid=stock-form] button[type=submit]")
    page.wait_for_selector("td:has-text('采购入库')")
    assert "现有库存 25" in page.inner_text(".alert, .flash, body")
    page.screenshot(path=str(SHOTS / "stock.png"), full_page=True)
