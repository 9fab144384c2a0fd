"""/api/v1/orders: create with stock reservation and idempotency, filters, scope, flow, refunds, errors."""
from __future__ import annotations

import pytest
from sqlmodel import select

from commerce.catalog.models import ProductSku
from commerce.orders.models import SalesOrder
from crm.customers.models import Customer
from crm.people.models import User
from tests.commerce.order_world import make_sku
from tests.web.api_helpers import Api, api, assert_error, count, token_for  # noqa: F401 - fixtures


@pytest.fixture
def shop(app, app_db, api):
    sales_token = token_for(app_db, "sales1", ["sales"])
    with app_db.write() as s:
        sales_id = s.exec(select(User.id).where(User.username == "sales1")).one()
        mine, other = Customer(name="张三", owner_id=sales_id), Customer(name="王五")
        s.add(mine)
        s.add(other)
        s.flush()
        ids = {"mine": mine.id, "other": other.id, "sales": sales_id, "sku": make_sku(s, "TEA-1", 990, 10),
               "sku2": make_sku(s, "TEA-2", 2500, 1)}
    return ids, Api(app.test_client(), sales_token)


def _stock(db, sku_id):
    with db.read() as s:
        sku = s.get(ProductSku, sku_id)
        return sku.on_hand, sku.reserved


def test_create_get_list_and_flow(api, shop, app_db):
    ids, _ = shop
    body = {"customer_id": ids["mine"], "external_id": "MINI-1", "discount_fen": 80,
            "lines": [{"sku_id": ids["sku"], "quantity": 2}, {"sku_code": "TEA-2", "quantity": 1}]}
    created = api.ok("POST", "/api/v1/orders", body, status=201)
    assert (created["status"], created["total_fen"], created["credited_user_id"]) == ("pending", 4400, ids["sales"])
    assert [line["sku_code"] for line in created["lines"]] == ["TEA-1", "TEA-2"]
    again = api.ok("POST", "/api/v1/orders", body, status=200)
    assert again["id"] == created["id"] and count(app_db, SalesOrder) == 1
    assert _stock(app_db, ids["sku"]) == (10, 2)
    oid = created["id"]
    for action, status in (("pay", "paid"), ("ship", "shipped"), ("complete", "completed")):
        assert api.ok("POST", f"/api/v1/orders/{oid}/transitions", {"action": action})["status"] == status
    assert _stock(app_db, ids["sku"]) == (8, 0)
    listed = api.ok("GET", "/api/v1/orders?status=completed&source=api&min_fen=4000&max_fen=5000")
    assert listed["total"] == 1 and listed["items"][0]["order_no"] == created["order_no"]
    assert api.ok("GET", "/api/v1/orders?status=pending")["total"] == 0
    detail = api.ok("GET", f"/api/v1/orders/{oid}")
    assert [t["to_status"] for t in detail["transitions"]] == ["pending", "paid", "shipped", "completed"]
    line = detail["lines"][0]["id"]
    refunded = api.ok("POST", f"/api/v1/orders/{oid}/refunds", {"lines": [{"line_id": line, "quantity": 1}],
                                                                "reason": "破损"}, status=201)
    assert refunded["status"] == "completed" and refunded["refunded_fen"] > 0 and len(refunded["refunds"]) == 1
    assert _stock(app_db, ids["sku"]) == (9, 0)
    rest = refunded["paid_fen"] - refunded["refunded_fen"]
    assert_error(api.post(f"/api/v1/orders/{oid}/refunds", {"amount_fen": rest + 1}), 422, "amount_fen")
    assert api.ok("POST", f"/api/v1/orders/{oid}/refunds", {"amount_fen": rest, "restock": False},
                  status=201)["status"] == "refunded"
    with app_db.read() as s:
        assert s.get(Customer, ids["mine"]).total_spent_fen == 0


def test_bad_input_names_the_field_and_writes_nothing(api, shop, app_db):
    ids, _ = shop
    cases = [({"customer_id": ids["mine"], "lines": [{"sku_id": ids["sku"], "quantity": -1}]}, 422, "lines[0].quantity"),
             ({"customer_id": ids["mine"], "lines": [{"sku_id": ids["sku"], "quantity": 1.5}]}, 422, "lines[0].quantity"),
             ({"customer_id": ids["mine"], "lines": [{"sku_id": ids["sku"], "quantity": 1, "unit_price_fen": 9.9}]}, 422,
              "lines[0].unit_price_fen"),
             ({"customer_id": ids["mine"], "lines": [{"sku_id": ids["sku"], "quantity": 1}, {"sku_id": 999, "quantity": 1}]},
              422, "lines[1].sku_id"),
             ({"customer_id": 99999, "lines": [{"sku_id": ids["sku"], "quantity": 1}]}, 422, "customer_id"),
             ({"customer_id": 1.5, "lines": [{"sku_id": ids["sku"], "quantity": 1}]}, 422, "customer_id"),
             ({"customer_id": ids["mine"], "lines": [{"sku_id": ids["sku2"], "quantity": 2}]}, 409, "TEA-2"),
             ({"customer_id": ids["mine"], "lines": [], "colour": "red"}, 422, "colour")]
    for body, status, word in cases:
        assert_error(api.post("/api/v1/orders", body), status, word)
    assert count(app_db, SalesOrder) == 0
    assert _stock(app_db, ids["sku"]) == (10, 0) and _stock(app_db, ids["sku2"]) == (1, 0)


def test_forbidden_jump_names_both_states(api, shop):
    ids, _ = shop
    oid = api.ok("POST", "/api/v1/orders", {"customer_id": ids["mine"], "lines": [{"sku_id": ids["sku"], "quantity": 1}]},
                 status=201)["id"]
    assert_error(api.post(f"/api/v1/orders/{oid}/transitions", {"action": "complete"}), 422, "待支付", "已完成")
    assert_error(api.post(f"/api/v1/orders/{oid}/transitions", {"action": "fly"}), 422, "action")
    assert_error(api.post(f"/api/v1/orders/{oid}/refunds", {"amount_fen": 1}), 422, "待支付")


def test_a_salesperson_sees_only_their_customers_orders(api, shop):
    ids, sales = shop
    theirs = api.ok("POST", "/api/v1/orders", {"customer_id": ids["other"], "lines": [{"sku_id": ids["sku"], "quantity": 1}]},
                    status=201)["id"]
    mine = sales.ok("POST", "/api/v1/orders", {"customer_id": ids["mine"], "lines": [{"sku_id": ids["sku"], "quantity": 1}]},
                    status=201)["id"]
    assert [o["id"] for o in sales.ok("GET", "/api/v1/orders")["items"]] == [mine]
    assert_error(sales.get(f"/api/v1/orders/{theirs}"), 404)
    assert_error(sales.post(f"/api/v1/orders/{theirs}/transitions", {"action": "pay"}), 404)
    assert_error(sales.post("/api/v1/orders", {"customer_id": ids["other"], "lines": [{"sku_id": ids["sku"], "quantity": 1}]}),
                 422, "customer_id")
    sales.ok("POST", f"/api/v1/orders/{mine}/transitions", {"action": "pay"})
    assert_error(sales.post(f"/api/v1/orders/{mine}/refunds", {"amount_fen": 1}), 403)  # 业务员 has no orders.refund
    assert len(api.ok("GET", "/api/v1/orders")["items"]) == 2


def test_openapi_documents_the_order_routes_with_examples(api):
    doc = api.ok("GET", "/api/v1/openapi.json")
    paths = doc["paths"]
    assert {"post", "get"} <= set(paths["/api/v1/orders"])
    body = paths["/api/v1/orders"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["example"]["lines"] and "409" in paths["/api/v1/orders"]["post"]["responses"]
    assert "/api/v1/orders/{order_id}/refunds" in paths and "/api/v1/orders/{order_id}/transitions" in paths
