"""Tags on products and companies (seed 001 §3.1.1.2): categories per 适用对象 on 标签管理, tags put on a
product / company from its detail page, never on a customer (and customer tags never on them),
auto tags refused for them, another's personal tag not found, a deleted tag or company leaves no link."""
from __future__ import annotations

from sqlmodel import select

from commerce.catalog.models import ProductSpu
from crm.customers.models import Company, Customer
from crm.tags.models import CustomerTag, ObjectTag, Tag, TagCategory
from tests.web.conftest import get_csrf_token


def _links(app_db):
    with app_db.read() as s:
        return sorted((o.object_type, o.object_id, o.tag_id) for o in s.exec(select(ObjectTag)))


def test_product_and_company_tags(client, admin_user, login, app_db):
    with app_db.write() as s:
        spu = ProductSpu(code="P1", name="有机奶粉")
        company = Company(name="晓售科技")
        customer = Customer(name="张三")
        s.add_all([spu, company, customer])
        s.flush()
        ids = {"spu": spu.id, "company": company.id, "customer": customer.id}
    login(client)
    token = get_csrf_token(client, "/tags")
    for kind, name in (("product", "奶粉类"), ("company", "合作伙伴")):
        assert client.post("/tags/categories", data={"csrf_token": token, "name": name, "object": kind}).status_code == 302
    with app_db.read() as s:
        cats = {c.name: c for c in s.exec(select(TagCategory))}
    assert cats["奶粉类"].object_type == "product" and cats["合作伙伴"].object_type == "company"
    auto = client.post("/tags/new", data={"csrf_token": token, "name": "爆款", "kind": "auto", "object": "product",
                                          "category_id": str(cats["奶粉类"].id), "score": "0", "enabled": "1"})
    assert auto.status_code == 400 and "只能是手动标签或个人标签" in auto.get_data(as_text=True)
    for name, cat in (("爆款", "奶粉类"), ("战略客户", "合作伙伴")):
        client.post("/tags/new", data={"csrf_token": token, "name": name, "kind": "manual", "object": "x",
                                       "category_id": str(cats[cat].id), "score": "0", "enabled": "1"})
    client.get("/tags")  # shows (and clears) the flash of the last save
    with app_db.read() as s:
        tags = {t.name: t.id for t in s.exec(select(Tag))}
    page = client.get("/tags?object=product").get_data(as_text=True)
    assert "奶粉类" in page and "爆款" in page and "战略客户" not in page
    assert "爆款" not in client.get("/tags").get_data(as_text=True)

    html = client.get(f"/products/{ids['spu']}").get_data(as_text=True)
    assert 'data-testid="object-tags"' in html and "爆款" in html and "战略客户" not in html
    client.post(f"/products/{ids['spu']}/tags", data={"csrf_token": token, "tag_ids": str(tags["爆款"])})
    client.post(f"/products/{ids['spu']}/tags", data={"csrf_token": token, "tag_ids": str(tags["战略客户"])})  # wrong kind
    client.post(f"/companies/{ids['company']}/tags", data={"csrf_token": token, "tag_ids": str(tags["战略客户"])})
    assert _links(app_db) == sorted([("product", ids["spu"], tags["爆款"]), ("company", ids["company"], tags["战略客户"])])
    assert "移除标签「战略客户」" in client.get(f"/companies/{ids['company']}").get_data(as_text=True)
    # a product tag is not a customer's
    client.post("/customers/bulk/tag", data={"csrf_token": token, "ids": [str(ids["customer"])],
                                             "tag_ids": [str(tags["爆款"])]})
    assert "「爆款」是商品或公司的标签" in client.get(f"/customers/{ids['customer']}").get_data(as_text=True)
    with app_db.read() as s:
        assert s.exec(select(CustomerTag)).all() == []
    assert client.post("/products/99999/tags", data={"csrf_token": token, "tag_ids": str(tags["爆款"])}).status_code == 404
    client.post(f"/products/{ids['spu']}/tags/{tags['爆款']}/remove", data={"csrf_token": token})
    assert _links(app_db) == [("company", ids["company"], tags["战略客户"])]
    client.post(f"/companies/{ids['company']}/delete", data={"csrf_token": token})
    assert _links(app_db) == []
    client.post(f"/products/{ids['spu']}/tags", data={"csrf_token": token, "tag_ids": str(tags["爆款"])})
    client.post("/tags/batch", data={"csrf_token": token, "action": "delete", "ids": [str(tags["爆款"])]})
    assert _links(app_db) == []
