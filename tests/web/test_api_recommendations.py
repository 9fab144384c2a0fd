"""GET /api/v1/customers/{id}/recommendations: ranked products with reasons, limit checked,
scoped (another's customer is 404 like an unknown id), documented with schema and example."""
from __future__ import annotations

from sqlalchemy import update

from commerce.recommend import refresh
from crm.customers.models import Customer
from tests.support.recommend_data import generate
from tests.web.api_helpers import PASSWORD, Api, api, assert_error, token_for  # noqa: F401
from crm.people import service as people


def _shop(app_db, clock):
    with app_db.write() as s:
        planted = generate(s, customers=60, spus=24, orders=300, tags=4, now=clock.now())
        refresh.rebuild(s, clock.now())
    return planted


def test_recommendations_with_reasons_and_limit(api, app_db, clock):
    planted = _shop(app_db, clock)
    cid = planted.customer_ids[0]
    body = api.ok("GET", f"/api/v1/customers/{cid}/recommendations?limit=3")
    assert body["customer_id"] == cid and body["built_at"]
    assert 1 <= len(body["items"]) <= 3
    for item in body["items"]:
        assert item["spu_id"] not in planted.out_of_stock | planted.off_shelf
        assert item["reasons"] and item["name"].startswith("商品") and item["price_fen"] > 0
        assert set(item["signals"]) <= {"tag_affinity", "co_purchase", "segment_popular"}
    assert len(api.ok("GET", f"/api/v1/customers/{cid}/recommendations")["items"]) == 5
    for bad in ("0", "51", "x"):
        assert_error(api.get(f"/api/v1/customers/{cid}/recommendations?limit={bad}"), 400, "limit")
    assert_error(api.get("/api/v1/customers/999999/recommendations"), 404)


def test_scope_and_permissions(app, app_db, admin_user, clock):
    planted = _shop(app_db, clock)
    mine, theirs = planted.customer_ids[:2]
    user = people.create_user(app_db, "sales1", PASSWORD, roles=["sales"])
    sales = people.create_token(app_db, "sales1", "测试脚本")
    with app_db.write() as s:
        s.execute(update(Customer).where(Customer.id == mine).values(owner_id=user.id))
    client = Api(app.test_client(), sales)
    assert client.ok("GET", f"/api/v1/customers/{mine}/recommendations")["items"]
    answer = assert_error(client.get(f"/api/v1/customers/{theirs}/recommendations"), 404)
    unknown = assert_error(client.get("/api/v1/customers/999999/recommendations"), 404)
    # Another's customer answers exactly as an unknown id does (only the id the caller sent is echoed).
    assert answer["error"]["message"].replace(str(theirs), "N") == unknown["error"]["message"].replace("999999", "N")
    viewer = Api(app.test_client(), token_for(app_db, "viewer1", ["viewer"]))
    resp = viewer.get(f"/api/v1/customers/{mine}/recommendations")
    assert resp.status_code in (403, 404)
    assert Api(app.test_client(), None).get(f"/api/v1/customers/{mine}/recommendations").status_code == 401


def test_documented_with_schema_and_example(api):
    doc = api.ok("GET", "/api/v1/openapi.json")
    op = doc["paths"]["/api/v1/customers/{customer_id}/recommendations"]["get"]
    schema = op["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema["properties"]["items"]["items"]["properties"]["reasons"]["type"] == "array"
    assert schema["example"]["items"][0]["reasons"][0].startswith("常一起购买「")
    assert any(p["name"] == "limit" for p in op["parameters"])
