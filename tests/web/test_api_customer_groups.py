"""/api/v1/customer-groups: 客户分组 CRUD with members (replaced when given), counts, the member
list, refusals naming the field with nothing written, an in-use group kept, groups.view / .manage."""
from __future__ import annotations

from crm.customers.models import Customer
from crm.groups.models import CustomerGroup, GroupLink, GroupMember
from crm.people import service as people
from tests.web.api_helpers import api, assert_error, count, viewer_api  # noqa: F401 - fixtures


def test_crud_members_and_counts(api, app_db):  # noqa: F811
    li = people.create_user(app_db, "sales_li", "Passw0rd123", display_name="李娜").id
    wang = people.create_user(app_db, "mgr_wang", "Passw0rd123", display_name="王强").id
    body = {"name": "电销一组", "remark": "华东", "allow_requests": True, "requests_per_day": 2,
            "customers_per_request": 20, "members": [{"user_id": li, "role": "sales"}, {"user_id": wang, "role": "manager"}]}
    created = api.ok("POST", "/api/v1/customer-groups", body, 201)
    gid = created["id"]
    assert {(m["user_id"], m["role"]) for m in created["members"]} == {(li, "sales"), (wang, "manager")}
    with app_db.write() as s:
        c1, c2 = Customer(name="甲"), Customer(name="乙")
        s.add_all([c1, c2])
        s.flush()
        s.add_all([GroupLink(group_id=gid, customer_id=c1.id, assignee_id=li), GroupLink(group_id=gid, customer_id=c2.id)])
    got = api.ok("GET", f"/api/v1/customer-groups/{gid}")
    assert (got["total"], got["pooled"], got["assigned"]) == (2, 1, 1)
    assert [g["name"] for g in api.ok("GET", "/api/v1/customer-groups")["items"]] == ["电销一组"]
    members = api.ok("GET", f"/api/v1/customer-groups/{gid}/members")["items"]
    assert {m["display_name"] for m in members} == {"李娜", "王强"} and "password_hash" not in str(members)
    kept = api.ok("PUT", f"/api/v1/customer-groups/{gid}", {"remark": "华东与华南"})
    assert kept["remark"] == "华东与华南" and len(kept["members"]) == 2 and kept["requests_per_day"] == 2
    replaced = api.ok("PUT", f"/api/v1/customer-groups/{gid}", {"members": [{"user_id": wang, "role": "manager"}]})
    assert [m["user_id"] for m in replaced["members"]] == [wang]
    assert_error(api.delete(f"/api/v1/customer-groups/{gid}"), 422, "客户")  # not empty
    assert count(app_db, CustomerGroup) == 1 and count(app_db, GroupLink) == 2
    empty = api.ok("POST", "/api/v1/customer-groups", {"name": "空组"}, 201)["id"]
    assert api.ok("DELETE", f"/api/v1/customer-groups/{empty}") == {"deleted": empty}
    assert_error(api.get(f"/api/v1/customer-groups/{empty}"), 404, str(empty))
    assert_error(api.get(f"/api/v1/customer-groups/{empty}/members"), 404, str(empty))


def test_refusals_name_the_field_and_write_nothing(api, app_db, viewer_api):  # noqa: F811
    api.ok("POST", "/api/v1/customer-groups", {"name": "电销一组"}, 201)
    cases = [({}, "name"), ({"name": "电销一组"}, "name"), ({"name": "B", "members": [{"user_id": 999999}]}, "members"),
             ({"name": "B", "members": [{"user_id": "x"}]}, "members.0"), ({"name": "B", "members": "1,2"}, "members"),
             ({"name": "B", "requests_per_day": -1}, "requests_per_day"), ({"name": "B", "allow_requests": "yes"},
                                                                           "allow_requests"),
             ({"name": "B", "allow_requests": True}, "requests_per_day"), ({"name": "B", "owner": 1}, "owner")]
    for body, field in cases:
        assert field in assert_error(api.post("/api/v1/customer-groups", body), 422, field)["error"]["fields"], body
    assert count(app_db, CustomerGroup) == 1 and count(app_db, GroupMember) == 0
    assert_error(api.put("/api/v1/customer-groups/999999", {"name": "x"}), 404, "999999")
    assert viewer_api.ok("GET", "/api/v1/customer-groups")["items"][0]["name"] == "电销一组"
    assert_error(viewer_api.post("/api/v1/customer-groups", {"name": "x"}), 403, "groups.manage")
