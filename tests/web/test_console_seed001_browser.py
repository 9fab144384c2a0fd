"""Browser (seed 001 leftovers): 导入内置策略 on 自动化策略管理 with its report, 复制 a tag with its rule on
标签管理, and a 商品 tag put on a product from its detail page."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from commerce.catalog.models import ProductSpu
from crm.tags.models import ObjectTag, Tag, TagCategory

SHOTS = Path("/tmp/ckb_shots")


@pytest.mark.browser
def test_import_builtin_copy_tag_and_tag_a_product(page, browser_login, app_db, admin_user):
    with app_db.write() as s:
        customer_cat, product_cat = TagCategory(name="地区"), TagCategory(name="品类", object_type="product")
        spu = ProductSpu(code="P1", name="有机奶粉")
        s.add_all([customer_cat, product_cat, spu])
        s.flush()
        s.add_all([Tag(category_id=customer_cat.id, name="上海客户", kind="auto",
                       rule={"mode": "conditions", "rows": [{"field": "city", "op": "eq", "value": "上海"}]}),
                   Tag(category_id=product_cat.id, name="爆款")])
        spu_id = spu.id
    browser_login()
    page.goto("/strategies")
    page.click("button:has-text('导入内置策略')")
    page.click("[data-confirm-ok]")
    page.wait_for_selector("[data-testid=builtin-report]")
    assert page.locator(".chip:has-text('修改密码成功短信提醒')").count() == 1
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "builtin_strategies.png"), full_page=True)

    page.goto("/tags")
    page.check("input[data-tag-check]")
    page.click("[data-testid=batch-copy]")
    page.wait_for_selector("text=已复制 1 个标签")
    page.goto("/tags?object=product")
    assert page.locator("td:has-text('爆款')").count() == 1

    page.goto(f"/products/{spu_id}")
    page.select_option("[data-testid=object-tags] select[name=tag_ids]", label="爆款")
    page.click("[data-testid=object-tags] button:has-text('打标签')")
    page.wait_for_selector("[data-testid=object-tags] button[title='移除标签「爆款」']")
    page.screenshot(path=str(SHOTS / "product_tags.png"), full_page=True)
    with app_db.read() as s:
        assert s.exec(select(Tag.rule).where(Tag.name == "上海客户 - 副本")).one()["rows"][0]["value"] == "上海"
        assert [(o.object_type, o.object_id) for o in s.exec(select(ObjectTag))] == [("product", spu_id)]
