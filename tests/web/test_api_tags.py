"""/api/v1/tags and /api/v1/tag-categories: the category tree and tags as 标签管理 keeps them —
CRUD, search by category (with sub-categories) / kind / name, holder counts, an auto tag's rule
read-only, personal tags only for their owner (another's is 404 like an unknown id), typed fields
refused naming the field with nothing written, tags.view to read and tags.manage to change."""
from __future__ import annotations

from crm.customers.models import Customer
from crm.people import service as people
from crm.tags.apply import apply_tags
from crm.tags.models import Tag, TagCategory
from tests.web.api_helpers import Api, api, assert_error, count, runtime, token_for, viewer_api  # noqa: F401 - fixtures


def test_categories_and_tags_crud_search_and_counts(api, app_db, runtime):  # noqa: F811
    root = api.ok("POST", "/api/v1/tag-categories", {"name": "消费能力"}, 201)
    child = api.ok("POST", "/api/v1/tag-categories", {"name": "高消费", "parent_id": root["id"], "position": 1}, 201)
    tree = api.ok("GET", "/api/v1/tag-categories")["items"]
    assert tree[0]["name"] == "消费能力" and tree[0]["children"][0]["id"] == child["id"]
    vip = api.ok("POST", "/api/v1/tags", {"name": "VIP", "category_id": child["id"], "score": 10, "validity_days": 30}, 201)
    assert vip["kind"] == "manual" and vip["category"] == "高消费" and vip["customers"] == 0
    auto = api.ok("POST", "/api/v1/tags", {"name": "沉睡", "kind": "auto", "category_id": root["id"]}, 201)
    assert auto["rule"] == {}  # shown (read-only) to tags.manage
    with app_db.write() as s:
        customer = Customer(name="张三")
        s.add(customer)
        s.flush()
        apply_tags(s, [customer.id], [vip["id"]], operator_id=None, now=runtime.services.now())
    assert api.ok("GET", f"/api/v1/tags/{vip['id']}")["customers"] == 1
    under_root = api.ok("GET", f"/api/v1/tags?category_id={root['id']}")
    assert {t["name"] for t in under_root["items"]} == {"VIP", "沉睡"} and under_root["total"] == 2
    assert [t["name"] for t in api.ok("GET", "/api/v1/tags?kind=auto")["items"]] == ["沉睡"]
    assert [t["name"] for t in api.ok("GET", "/api/v1/tags?q=VI")["items"]] == ["VIP"]
    updated = api.ok("PUT", f"/api/v1/tags/{vip['id']}", {"score": 20, "enabled": False})
    assert (updated["score"], updated["enabled"], updated["name"], updated["validity_days"]) == (20, False, "VIP", 30)
    renamed = api.ok("PUT", f"/api/v1/tag-categories/{child['id']}", {"name": "高消费人群"})
    assert renamed["parent_id"] == root["id"] and renamed["position"] == 1
    assert_error(api.delete(f"/api/v1/tag-categories/{child['id']}"), 422)  # still holds a tag
    assert api.ok("DELETE", f"/api/v1/tags/{vip['id']}") == {"deleted": vip["id"], "removed_from": 1}
    assert api.ok("DELETE", f"/api/v1/tag-categories/{child['id']}") == {"deleted": child["id"]}
    assert_error(api.get(f"/api/v1/tags/{vip['id']}"), 404, str(vip["id"]))


def test_bad_input_refused_naming_the_field_nothing_written(api, app_db):  # noqa: F811
    cat = api.ok("POST", "/api/v1/tag-categories", {"name": "客户标签"}, 201)["id"]
    api.ok("POST", "/api/v1/tags", {"name": "VIP", "category_id": cat}, 201)
    cases = [({"name": "A"}, "category_id"), ({"name": ["A"], "category_id": cat}, "name"),
             ({"name": "A", "category_id": "x"}, "category_id"), ({"name": "A", "category_id": cat, "kind": "x"}, "kind"),
             ({"name": "A", "category_id": cat, "enabled": "false"}, "enabled"),
             ({"name": "A", "category_id": 999999}, "category_id"), ({"name": "VIP", "category_id": cat}, "name"),
             ({"name": "A", "category_id": cat, "validity_days": 0}, "validity_days"),
             ({"name": "A", "category_id": cat, "rule": {}}, "rule")]
    for body, field in cases:
        assert field in assert_error(api.post("/api/v1/tags", body), 422, field)["error"]["fields"], body
    assert count(app_db, Tag) == 1
    assert_error(api.post("/api/v1/tag-categories", {"name": "子", "parent_id": 999999}), 422, "parent_id")
    assert_error(api.put(f"/api/v1/tag-categories/{cat}", {"parent_id": cat}), 422, "parent_id")
    assert count(app_db, TagCategory) == 1
    assert_error(api.get("/api/v1/tags?kind=vip"), 400, "kind")
    assert_error(api.get("/api/v1/tags?category_id=999999"), 404, "999999")
    assert_error(api.put("/api/v1/tags/999999", {"name": "x"}), 404, "999999")


def test_personal_tags_stay_with_their_owner_and_permissions(api, app, app_db, viewer_api):  # noqa: F811
    cat = api.ok("POST", "/api/v1/tag-categories", {"name": "客户标签"}, 201)["id"]
    mine = api.ok("POST", "/api/v1/tags", {"name": "我的跟进", "kind": "personal", "category_id": cat}, 201)
    people.create_role(app_db, "tagger", "标签员", {"tags.view", "tags.manage"})
    other = Api(app.test_client(), token_for(app_db, "tagger1", ["tagger"]))
    assert_error(other.get(f"/api/v1/tags/{mine['id']}"), 404, str(mine["id"]))
    assert_error(other.put(f"/api/v1/tags/{mine['id']}", {"name": "改"}), 404)
    assert_error(other.delete(f"/api/v1/tags/{mine['id']}"), 404)
    assert "我的跟进" not in other.get("/api/v1/tags").get_data(as_text=True)
    assert api.ok("GET", f"/api/v1/tags/{mine['id']}")["name"] == "我的跟进"
    assert viewer_api.ok("GET", "/api/v1/tags")["total"] == 0  # tags.view reads (personal ones hidden)
    assert_error(viewer_api.post("/api/v1/tags", {"name": "x", "category_id": cat}), 403, "tags.manage")
    auto = api.ok("POST", "/api/v1/tags", {"name": "沉睡", "kind": "auto", "category_id": cat}, 201)
    assert "rule" not in viewer_api.ok("GET", f"/api/v1/tags/{auto['id']}")  # rules only to tags.manage
