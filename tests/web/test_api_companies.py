"""/api/v1/companies: CRUD as 公司管理 (name unique, PUT changes only what it names, delete keeps the
customers), typed fields refused naming the field with nothing written, unknown ids 404 naming the
id, companies.manage required, contacts limited to the caller's customers and phones masked."""
from __future__ import annotations

from sqlmodel import select

from crm.customers.models import Company, Customer
from crm.people import service as people
from tests.web.api_helpers import Api, api, assert_error, count, token_for, viewer_api  # noqa: F401 - fixtures


def test_create_list_get_update_delete(api, app_db):  # noqa: F811
    created = api.ok("POST", "/api/v1/companies", {"name": "星辰贸易", "industry": "零售", "phone": "02158880000"}, 201)
    cid = created["id"]
    assert created["customers"] == 0 and created["industry"] == "零售"
    with app_db.write() as s:
        s.add(Customer(name="王经理", mobile="13900139000", company_id=cid))
    listed = api.ok("GET", "/api/v1/companies?q=星辰")
    assert listed["total"] == 1 and listed["items"][0]["customers"] == 1
    assert api.ok("GET", "/api/v1/companies?q=没有这家")["total"] == 0
    detail = api.ok("GET", f"/api/v1/companies/{cid}")
    assert [c["name"] for c in detail["contacts"]] == ["王经理"] and detail["contacts"][0]["mobile"] == "13900139000"
    updated = api.ok("PUT", f"/api/v1/companies/{cid}", {"remark": "年度大客户"})
    assert updated["remark"] == "年度大客户" and updated["name"] == "星辰贸易" and updated["industry"] == "零售"
    assert api.ok("DELETE", f"/api/v1/companies/{cid}") == {"deleted": cid}
    assert_error(api.get(f"/api/v1/companies/{cid}"), 404, str(cid))
    with app_db.read() as s:
        assert s.exec(select(Customer).where(Customer.name == "王经理")).one().company_id is None  # the customer stays


def test_bad_input_is_refused_naming_the_field_and_writes_nothing(api, app_db):  # noqa: F811
    api.ok("POST", "/api/v1/companies", {"name": "星辰贸易"}, 201)
    cases = [({"industry": "零售"}, "name"), ({"name": ["星辰"]}, "name"), ({"name": "甲", "phone": 1380}, "phone"),
             ({"name": "甲", "colour": "红"}, "colour"), ({"name": "星辰贸易"}, "name"), ({"name": "乙" * 201}, "name")]
    for body, field in cases:
        body_out = assert_error(api.post("/api/v1/companies", body), 422, field)
        assert field in body_out["error"]["fields"], body_out
    assert count(app_db, Company) == 1
    cid = api.ok("GET", "/api/v1/companies")["items"][0]["id"]
    assert_error(api.put(f"/api/v1/companies/{cid}", {"name": ""}), 422, "name")
    assert api.ok("GET", f"/api/v1/companies/{cid}")["name"] == "星辰贸易"
    assert_error(api.put("/api/v1/companies/999999", {"name": "x"}), 404, "999999")
    assert_error(api.delete("/api/v1/companies/999999"), 404, "999999")


def test_permission_scope_and_masking(api, app, app_db, viewer_api):  # noqa: F811
    assert_error(viewer_api.get("/api/v1/companies"), 403, "companies.manage")
    people.create_role(app_db, "company_clerk", "公司维护", {"companies.manage", "customers.view"})
    clerk_token = token_for(app_db, "clerk", ["company_clerk"])
    clerk_id = people.get_user_by_username(app_db, "clerk").id
    cid = api.ok("POST", "/api/v1/companies", {"name": "星辰科技", "phone": "13700137000"}, 201)["id"]
    with app_db.write() as s:
        s.add_all([Customer(name="自己的联系人", mobile="13800138000", company_id=cid, owner_id=clerk_id),
                   Customer(name="李四机密", company_id=cid)])
    clerk = Api(app.test_client(), clerk_token)
    detail = clerk.ok("GET", f"/api/v1/companies/{cid}")
    assert [c["name"] for c in detail["contacts"]] == ["自己的联系人"]
    text = clerk.get(f"/api/v1/companies/{cid}").get_data(as_text=True)
    assert "13800138000" not in text and "138****8000" in text and "13700137000" not in text
    assert "李四机密" not in clerk.get("/api/v1/companies").get_data(as_text=True)
