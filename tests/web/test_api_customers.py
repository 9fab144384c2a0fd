"""/api/v1/customers: CRUD (custom fields checked like the console's form, 删除 = 回收站), the list's
views and filters, search with condition rows, saved 查询方案, scope and masking."""
from __future__ import annotations

from sqlalchemy import select

from crm.customers.models import Customer, GrowthRecord, SavedQuery
from tests.web.api_helpers import api, assert_error, count  # noqa: F401 - fixtures
from tests.web.customer_api_world import cw, snapshot  # noqa: F401 - fixtures


def test_create_read_update_delete(api, cw, app_db):
    ids, _ = cw
    body = {"name": "张三", "mobile": "139 0013 9000", "email": "ZS@Example.com", "gender": "男", "birthday": "1990-05-01",
            "city": "上海", "source": "官网", "owner_id": ids["b"], "attrs": {"level": "vip", "aum": "12.5"}}
    created = api.ok("POST", "/api/v1/customers", body, status=201)
    cid = created["id"]
    assert (created["mobile"], created["email"], created["owner_id"], created["owner"]) == (
        "13900139000", "zs@example.com", ids["b"], "sales_b")
    assert created["attrs"] == {"level": "vip", "aum": 12.5} and created["status"] == "active"
    assert api.ok("GET", f"/api/v1/customers/{cid}")["birthday"] == "1990-05-01"
    updated = api.ok("PUT", f"/api/v1/customers/{cid}", {"city": "杭州", "attrs": {"level": ""}})
    assert (updated["city"], updated["name"], updated["attrs"]) == ("杭州", "张三", {"aum": 12.5})
    with app_db.read() as s:
        kinds = [g.kind for g in s.scalars(select(GrowthRecord).where(GrowthRecord.customer_id == cid))]
    assert kinds.count("create") == 1 and kinds.count("edit") == 1
    gone = api.ok("DELETE", f"/api/v1/customers/{cid}?reason=空号")
    assert gone == {"id": cid, "status": "recycled", "changed": 1}
    assert api.ok("GET", f"/api/v1/customers/{cid}")["status"] == "recycled"
    assert cid not in [c["id"] for c in api.ok("GET", "/api/v1/customers?size=200")["items"]]


def test_bad_input_names_the_field_and_writes_nothing(api, cw, app_db):
    ids, _ = cw
    before = count(app_db, Customer)
    cases = [({"city": "上海"}, 422, "name"),
             ({"name": ["张三"]}, 422, "name"),
             ({"name": "张三", "mobile": "12345"}, 422, "mobile"),
             ({"name": "张三", "mobile": 13900139000}, 422, "mobile"),
             ({"name": "张三", "gender": "未知"}, 422, "gender"),
             ({"name": "张三", "birthday": "1990-13-01"}, 422, "birthday"),
             ({"name": "张三", "company_id": 99999}, 422, "company_id"),
             ({"name": "张三", "company_id": "3"}, 422, "company_id"),
             ({"name": "张三", "attrs": {"aum": "很多"}}, 422, "attr_aum"),
             ({"name": "张三", "attrs": {"aum": [1]}}, 422, "attr_aum"),
             ({"name": "张三", "attrs": "level=vip"}, 422, "attrs"),
             ({"name": "张三", "colour": "red"}, 422, "colour"),
             ({"name": "张" * 101}, 422, "name")]
    for body, status, word in cases:
        assert_error(api.post("/api/v1/customers", body), status, word)
    assert count(app_db, Customer) == before
    # a duplicate mobile names the existing customer to someone who may see it
    assert_error(api.post("/api/v1/customers", {"name": "重复", "mobile": "13800138000"}), 422, "mobile", "乙的客户")
    assert_error(api.put(f"/api/v1/customers/{ids['mine']}", {"email": "bad"}), 422, "email")
    assert_error(api.put(f"/api/v1/customers/{ids['mine']}", {"steps": []}), 422, "steps")
    assert_error(api.get("/api/v1/customers/99999"), 404, "99999")
    assert_error(api.put("/api/v1/customers/99999", {"name": "x"}), 404, "99999")
    assert_error(api.delete("/api/v1/customers/99999"), 404, "99999")


def test_a_salesperson_sees_and_changes_only_their_own(cw, app_db):
    ids, sales = cw
    listed = sales.ok("GET", "/api/v1/customers")
    assert {c["id"] for c in listed["items"]} == {ids["mine"], ids["mine2"]} and listed["total"] == 2
    before = snapshot(app_db, ids["theirs"])
    for resp in (sales.get(f"/api/v1/customers/{ids['theirs']}"),
                 sales.put(f"/api/v1/customers/{ids['theirs']}", {"city": "北京"}),
                 sales.delete(f"/api/v1/customers/{ids['theirs']}")):
        body = assert_error(resp, 404, str(ids["theirs"]))
        assert "乙的客户" not in str(body)
    assert snapshot(app_db, ids["theirs"]) == before
    # a duplicate held by someone else is refused without naming it
    body = assert_error(sales.post("/api/v1/customers", {"name": "撞号", "mobile": "13800138000"}), 422, "mobile")
    assert "乙的客户" not in str(body)
    # a new customer of a salesperson is theirs, whatever owner the body names
    created = sales.ok("POST", "/api/v1/customers", {"name": "新客", "owner_id": ids["b"]}, status=201)
    assert created["owner_id"] == ids["a"]


def test_contacts_are_masked_without_pii_view(api, cw, app_db):
    ids, sales = cw
    mine = sales.ok("PUT", f"/api/v1/customers/{ids['mine']}", {"mobile": "13700137000", "email": "li@example.com"})
    assert (mine["mobile"], mine["email"]) == ("137****7000", "l***@example.com")
    listed = sales.get("/api/v1/customers").get_data(as_text=True)
    assert "13700137000" not in listed and "li@example.com" not in listed and "137****7000" in listed
    # sending the masked form back keeps the stored number
    sales.ok("PUT", f"/api/v1/customers/{ids['mine']}", {"mobile": "137****7000", "city": "苏州"})
    full = api.ok("GET", f"/api/v1/customers/{ids['mine']}")
    assert (full["mobile"], full["email"], full["city"]) == ("13700137000", "li@example.com", "苏州")


def test_list_views_filters_sort_and_paging(api, cw):
    ids, sales = cw
    by_city = api.ok("GET", "/api/v1/customers?city=上海&sort=id")
    assert [c["id"] for c in by_city["items"]] == [ids["mine"], ids["theirs"]]
    page = api.ok("GET", "/api/v1/customers?size=1&page=2&sort=id")
    assert (page["total"], page["pages"], page["size"], [c["id"] for c in page["items"]]) == (3, 3, 1, [ids["mine2"]])
    assert api.ok("GET", "/api/v1/customers?sort=-tag_score")["items"][0]["id"] == ids["mine"]
    assert [c["id"] for c in api.ok("GET", "/api/v1/customers?mobile=13800138000")["items"]] == [ids["theirs"]]
    assert sales.ok("GET", "/api/v1/customers?view=pool")["total"] == 2
    assert sales.ok("GET", "/api/v1/customers?view=grouped")["total"] == 0
    api.ok("POST", "/api/v1/customers/tags/add", {"ids": [ids["mine2"]], "tag_ids": [ids["hot"]]})
    tagged = api.ok("GET", f"/api/v1/customers?include_tags={ids['hot']}")
    assert [c["id"] for c in tagged["items"]] == [ids["mine2"]] and tagged["items"][0]["tags"][0]["name"] == "高意向"
    assert ids["mine2"] not in [c["id"] for c in api.ok("GET", f"/api/v1/customers?exclude_tags={ids['hot']}")["items"]]
    for query, word in (("view=everyone", "view"), ("include_tags=a,b", "include_tags"), ("size=500", "size"),
                        ("page=0", "page"), ("saved_query_id=x", "saved_query_id")):
        assert_error(api.get(f"/api/v1/customers?{query}"), 400, word)
    assert_error(api.get("/api/v1/customers?sort=nonsense"), 422, "sort")


def test_search_with_condition_rows(api, cw):
    ids, sales = cw
    rows = [{"lparen": 1, "field": "city", "op": "eq", "value": "上海", "join": "or"},
            {"field": "city", "op": "eq", "value": "杭州", "rparen": 1, "join": "and"},
            {"field": "name", "op": "contains", "value": "甲"}]
    found = api.ok("POST", "/api/v1/customers/search", {"rows": rows, "sort": "id"})
    assert [c["id"] for c in found["items"]] == [ids["mine"], ids["mine2"]]
    assert sales.ok("POST", "/api/v1/customers/search", {"rows": rows[:2]})["total"] == 2  # 乙's 上海 customer unseen
    assert api.ok("POST", "/api/v1/customers/search", {"quick": {"name": "乙"}})["total"] == 1
    cases = [({"rows": [{"field": "no_such_field", "op": "eq", "value": 1}]}, 422, "rows"),
             ({"rows": [{"lparen": 1, "field": "city", "op": "eq", "value": "上海"}]}, 422, "rows"),
             ({"rows": "city=上海"}, 422, "rows"),
             ({"rows": [{"field": "city", "op": "eq", "value": "x"}] * 101}, 422, "rows"),
             ({"include_tags": ["高意向"]}, 422, "include_tags"),
             ({"page": "2"}, 422, "page"),
             ({"quick": {"owner": "甲"}}, 422, "quick"),
             ({"view": "nobody"}, 400, "view"),
             ({"where": "1=1"}, 422, "where")]
    for body, status, word in cases:
        assert_error(api.post("/api/v1/customers/search", body), status, word)


def test_saved_queries_are_private_and_run(api, cw, app_db):
    ids, sales = cw
    query = {"rows": [{"field": "city", "op": "eq", "value": "杭州"}], "sort": "-id"}
    saved = sales.ok("POST", "/api/v1/customers/saved-queries", {"name": "杭州客户", "query": query}, status=201)
    again = sales.ok("POST", "/api/v1/customers/saved-queries", {"name": "杭州客户", "query": {"rows": []}}, status=201)
    assert again["id"] == saved["id"] and again["query"]["rows"] == []
    sales.ok("POST", "/api/v1/customers/saved-queries", {"name": "杭州客户", "query": query}, status=201)
    assert [q["name"] for q in sales.ok("GET", "/api/v1/customers/saved-queries")["items"]] == ["杭州客户"]
    assert api.ok("GET", "/api/v1/customers/saved-queries")["items"] == []
    ran = sales.ok("POST", "/api/v1/customers/search", {"saved_query_id": saved["id"]})
    assert [c["id"] for c in ran["items"]] == [ids["mine2"]]
    assert [c["id"] for c in sales.ok("GET", f"/api/v1/customers?saved_query_id={saved['id']}")["items"]] == [ids["mine2"]]
    assert_error(api.post("/api/v1/customers/search", {"saved_query_id": saved["id"]}), 404, str(saved["id"]))
    assert_error(api.delete(f"/api/v1/customers/saved-queries/{saved['id']}"), 404, str(saved["id"]))
    assert_error(sales.post("/api/v1/customers/search", {"saved_query_id": saved["id"], "rows": query["rows"]}),
                 422, "saved_query_id")
    for body, word in (({"name": "坏", "query": {"rows": [{"field": "nope", "op": "eq", "value": 1}]}}, "rows"),
                       ({"name": "坏", "query": {"sort": "nope"}}, "sort"),
                       ({"name": "", "query": {}}, "name"), ({"name": "坏", "query": []}, "query"),
                       ({"name": "坏", "query": {"limit": 5}}, "limit")):
        assert_error(sales.post("/api/v1/customers/saved-queries", body), 422, word)
    assert count(app_db, SavedQuery) == 1
    assert sales.ok("DELETE", f"/api/v1/customers/saved-queries/{saved['id']}") == {"deleted": saved["id"]}
    assert count(app_db, SavedQuery) == 0


def test_search_vocabulary_lists_fields_and_operators(api, cw):
    vocab = api.ok("GET", "/api/v1/customers/search/fields")
    names = {f["name"]: f for f in vocab["fields"]}
    assert names["city"]["type"] == "text" and names["aum"]["custom"] and names["aum"]["type"] == "number"
    assert "eq" in {o["key"] for o in vocab["operators"]} and vocab["views"]["pool"] == "公海"
