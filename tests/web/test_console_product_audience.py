"""目标客户群 page (save / preview JSON with errors named per part, scoped counts and list, masked
mobiles) and the 推荐商品 section of 客户详情."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from commerce.catalog.models import ProductSku, ProductSpu, ProductVersion
from commerce.recommend import refresh
from crm.customers.models import Customer
from crm.people import service as people
from tests.support.recommend_data import tagged

CITY = [{"field": "city", "op": "eq", "value": "上海"}]


def _token(client, path):
    html = client.get(path).get_data(as_text=True)
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', html).group(1)


@pytest.fixture
def shop(app_db):
    with app_db.write() as s:
        tags, ids = tagged(s, {"宝妈": 5}, [(Customer(name="张三", mobile="13800138000", city="上海"), ("宝妈",)),
                                           (Customer(name="李四", city="北京"), ("宝妈",)),
                                           (Customer(name="王五", city="上海"), ())])
        spus = []
        for code, name, stock in (("A", "有机奶粉", 5), ("B", "婴儿推车", 0), ("C", "纸尿裤", 9)):
            spu = ProductSpu(code=code, name=name, shelf="on", audience={"tag_ids": [tags["宝妈"]]},
                             link_url=f"https://shop.example.com/{code}")
            s.add(spu)
            s.flush()
            s.add(ProductSku(spu_id=spu.id, code=f"{code}-1", price_fen=12900, on_hand=stock))
            spus.append(spu.id)
        return {"tag": tags["宝妈"], "customers": ids, "spus": spus}


def test_save_preview_and_list(client, admin_user, login, app_db, shop):
    login(client)
    spu = shop["spus"][0]
    page = client.get(f"/products/{spu}/audience")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "目标客户群" in html and "共 2 位" in html and "张三" in html and "李四" in html
    headers = {"X-CSRFToken": _token(client, f"/products/{spu}/audience")}
    rule = {"mode": "conditions", "rows": CITY, "include_tags": [shop["tag"]], "exclude_tags": [], "saved_query_id": None}
    body = client.post(f"/products/{spu}/audience/preview", json={"rule": rule}, headers=headers).get_json()
    assert body["count"] == 1 and body["customers"][0]["name"] == "张三"
    saved = client.post(f"/products/{spu}/audience", json={"rule": rule}, headers=headers)
    assert saved.status_code == 200 and saved.get_json()["message"] == "已保存「有机奶粉」的目标客户群"
    html = client.get(f"/products/{spu}/audience").get_data(as_text=True)
    assert "共 1 位" in html and "李四" not in html
    with app_db.read() as s:
        assert s.get(ProductSpu, spu).audience["conditions"] == CITY
        assert [v.summary for v in s.execute(select(ProductVersion)).scalars()] == ["修改目标客户群"]
    bad = client.post(f"/products/{spu}/audience/preview",
                      json={"rule": {"rows": [{"field": "nope", "op": "eq", "value": 1}]}}, headers=headers)
    assert bad.status_code == 422 and "rows" in bad.get_json()["error"]["errors"]
    bad = client.post(f"/products/{spu}/audience", json={"rule": {"saved_query_id": 999}}, headers=headers)
    assert bad.status_code == 422 and "saved_query_id" in bad.get_json()["error"]["errors"]
    assert client.get("/products/999999/audience").status_code == 404
    assert client.post("/products/999999/audience", json={"rule": rule}, headers=headers).status_code == 404


def test_scope_masking_and_permissions(client, admin_user, login, app_db, shop):
    people.create_role(app_db, "shop_sales", "商品业务员", ["customers.view", "products.view"])
    user = people.create_user(app_db, "seller", "Seller12345", roles=["shop_sales"])
    with app_db.write() as s:
        s.get(Customer, shop["customers"][0]).owner_id = user.id
    login(client, "seller", "Seller12345")
    spu = shop["spus"][0]
    html = client.get(f"/products/{spu}/audience").get_data(as_text=True)
    assert "共 1 位" in html and "138****8000" in html and "李四" not in html
    assert "data-rule-editor" not in html  # read-only without products.manage
    headers = {"X-CSRFToken": _token(client, f"/products/{spu}/audience")}
    assert client.post(f"/products/{spu}/audience", json={"rule": {}}, headers=headers).status_code == 403


def test_customer_detail_lists_recommendations_with_reasons(client, admin_user, login, app_db, shop, clock):
    with app_db.write() as s:
        refresh.rebuild(s, clock.now())
    login(client)
    html = client.get(f"/customers/{shop['customers'][0]}").get_data(as_text=True)
    assert "推荐商品" in html and "有机奶粉" in html and "纸尿裤" in html and "命中标签「宝妈」" in html
    assert "婴儿推车" not in html  # out of stock
    assert "¥129.00" in html
    people.create_role(app_db, "no_products", "无商品权限", ["customers.view_all", "customers.view"])
    people.create_user(app_db, "plain", "Plain12345", roles=["no_products"])
    client.get("/logout")
    login(client, "plain", "Plain12345")
    html = client.get(f"/customers/{shop['customers'][0]}").get_data(as_text=True)
    assert "张三" in html and "推荐商品" not in html


def test_marketing_plan_picks_a_product(client, admin_user, login, app_db, shop):
    from crm.sales.models import MarketingPlan, MessageTemplate

    with app_db.write() as s:
        tpl = MessageTemplate(code="m1", name="奶粉", channel="sms", body="${name}：${product_name} ${product_link}")
        s.add(tpl)
        s.flush()
        tpl_id = tpl.id
    login(client)
    form = client.get("/marketing/new").get_data(as_text=True)
    assert "推广商品（可选）" in form and "有机奶粉（A）" in form
    token = _token(client, "/marketing/new")
    base = {"csrf_token": token, "name": "奶粉推广", "template_id": str(tpl_id), "schedule": "once", "run_time": "10:30"}
    bad = client.post("/marketing/new", data={**base, "product_id": "999999"})
    assert bad.status_code == 400 and "推广商品不存在或已删除" in bad.get_data(as_text=True)
    ok = client.post("/marketing/new", data={**base, "product_id": str(shop["spus"][0])})
    assert ok.status_code == 302
    with app_db.read() as s:
        plan = s.execute(select(MarketingPlan)).scalars().one()
    assert plan.product_id == shop["spus"][0] and plan.include_tags == []
    edit = client.get(f"/marketing/{plan.id}").get_data(as_text=True)
    assert f'<option value="{shop["spus"][0]}" selected>有机奶粉（A）</option>' in edit
