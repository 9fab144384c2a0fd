"""/api/v1/customers batch actions (tags, group, assign, release to the pools, recycle), follow-ups
and tasks: happy paths, every error class, all-or-nothing batches and a 业务员's scope."""
from __future__ import annotations

from sqlalchemy import select

from crm.customers.models import Customer
from crm.groups.models import GroupLink
from crm.sales.models import FollowUp, Task
from crm.tags.models import CustomerTag, TagHistory
from tests.web.api_helpers import api, assert_error, count  # noqa: F401 - fixtures
from tests.web.customer_api_world import cw, snapshot  # noqa: F401 - fixtures


def test_tags_add_and_remove(api, cw, app_db):
    ids, sales = cw
    both = [ids["mine"], ids["mine2"]]
    assert sales.ok("POST", "/api/v1/customers/tags/add", {"ids": both, "tag_ids": [ids["hot"]]}) == {
        "action": "tag", "requested": 2, "changed": 2}
    assert sales.ok("POST", "/api/v1/customers/tags/add", {"ids": both, "tag_ids": [ids["hot"]]})["changed"] == 0
    assert count(app_db, TagHistory, TagHistory.action == "add") == 2
    with app_db.read() as s:
        assert s.get(Customer, ids["mine2"]).tag_score == 10
    assert sales.ok("POST", "/api/v1/customers/tags/remove", {"ids": [ids["mine"]], "tag_ids": [ids["hot"]]})["changed"] == 1
    assert count(app_db, CustomerTag) == 1


def test_tag_errors_refuse_the_whole_batch(api, cw, app_db):
    ids, sales = cw
    before = snapshot(app_db, ids["mine"], ids["mine2"], ids["theirs"])
    cases = [({"ids": [ids["mine"], ids["theirs"]], "tag_ids": [ids["hot"]]}, 404, str(ids["theirs"])),
             ({"ids": [ids["mine"], 99999], "tag_ids": [ids["hot"]]}, 404, "99999"),
             ({"ids": [ids["mine"]], "tag_ids": [99999]}, 404, "tag_ids"),
             ({"ids": [ids["mine"]], "tag_ids": [ids["auto"]]}, 422, "自动标签"),
             ({"ids": [ids["mine"]], "tag_ids": [ids["off"]]}, 422, "已禁用"),
             ({"ids": [ids["mine"]], "tag_ids": []}, 422, "tag_ids"),
             ({"ids": [ids["mine"]], "tag_ids": ["高意向"]}, 422, "tag_ids"),
             ({"ids": [ids["mine"]], "tag_ids": [ids["hot"]] * 101}, 422, "tag_ids"),
             ({"ids": [], "tag_ids": [ids["hot"]]}, 400, "ids"),
             ({"ids": "1,2", "tag_ids": [ids["hot"]]}, 400, "ids"),
             ({"ids": list(range(1, 1002)), "tag_ids": [ids["hot"]]}, 400, "1000"),
             ({"ids": [ids["mine"]], "tag_ids": [ids["hot"]], "source": "auto"}, 422, "source")]
    for body, status, word in cases:
        body_text = str(assert_error(sales.post("/api/v1/customers/tags/add", body), status, word))
        assert "乙的客户" not in body_text
    assert snapshot(app_db, ids["mine"], ids["mine2"], ids["theirs"]) == before
    assert count(app_db, TagHistory) == 0


def test_group_assign_and_release(api, cw, app_db):
    ids, sales = cw
    g = ids["group"]
    assert sales.ok("POST", "/api/v1/customers/group", {"ids": [ids["mine"]], "group_id": g})["changed"] == 1
    assert sales.ok("GET", "/api/v1/customers?view=grouped")["total"] == 1
    # assign the other one to 乙 (a member of the group): it joins the group and 乙 becomes its owner
    assert api.ok("POST", "/api/v1/customers/assign", {"ids": [ids["mine2"]], "group_id": g, "user_id": ids["b"]})[
        "changed"] == 1
    with app_db.read() as s:
        assert s.get(Customer, ids["mine2"]).owner_id == ids["b"]
    assert_error(sales.get(f"/api/v1/customers/{ids['mine2']}"), 404)  # 甲 no longer sees it
    detail = api.ok("GET", f"/api/v1/customers/{ids['mine2']}")
    assert [(x["group"], x["assignee_id"]) for x in detail["groups"]] == [("电销一组", ids["b"])]
    assert api.ok("POST", "/api/v1/customers/release", {"ids": [ids["mine2"]], "to": "group_pool", "group_id": g})[
        "changed"] == 1
    with app_db.read() as s:
        link = s.scalars(select(GroupLink).where(GroupLink.customer_id == ids["mine2"])).one()
        assert link.assignee_id is None and s.get(Customer, ids["mine2"]).owner_id is None
    assert api.ok("POST", "/api/v1/customers/release", {"ids": [ids["mine"]], "to": "company_pool"})["changed"] == 1
    with app_db.read() as s:
        assert s.get(Customer, ids["mine"]).owner_id is None
    assert count(app_db, GroupLink, GroupLink.customer_id == ids["mine"]) == 0


def test_group_errors(api, cw, app_db):
    ids, sales = cw
    before = snapshot(app_db, ids["mine"], ids["mine2"], ids["theirs"])
    cases = [("/group", {"ids": [ids["mine"]], "group_id": 99999}, 404, "group_id"),
             ("/group", {"ids": [ids["mine"]]}, 422, "group_id"),
             ("/group", {"ids": [ids["mine"]], "group_id": "1"}, 422, "group_id"),
             ("/group", {"ids": [ids["mine"], ids["theirs"]], "group_id": ids["group"]}, 404, str(ids["theirs"])),
             ("/assign", {"ids": [ids["mine"]], "group_id": ids["group"]}, 422, "user_id"),
             ("/assign", {"ids": [ids["mine"]], "group_id": ids["group"], "user_id": 99999}, 422, "user_id"),
             ("/release", {"ids": [ids["mine"]], "to": "moon"}, 422, "to"),
             ("/release", {"ids": [ids["mine"]], "to": "group_pool"}, 422, "group_id"),
             ("/recycle", {"ids": [ids["mine"]], "reason": "x" * 501}, 422, "reason"),
             ("/recycle", {"ids": [ids["mine"]], "reason": 5}, 422, "reason"),
             ("/recycle", {"ids": [ids["theirs"]]}, 404, str(ids["theirs"]))]
    for path, body, status, word in cases:
        assert_error(sales.post("/api/v1/customers" + path, body), status, word)
    assert snapshot(app_db, ids["mine"], ids["mine2"], ids["theirs"]) == before


def test_recycle(api, cw, app_db):
    ids, sales = cw
    assert sales.ok("POST", "/api/v1/customers/recycle", {"ids": [ids["mine"], ids["mine2"]], "reason": "空号"}) == {
        "action": "recycle", "requested": 2, "changed": 2}
    with app_db.read() as s:
        assert {s.get(Customer, i).status for i in (ids["mine"], ids["mine2"])} == {"recycled"}
    assert sales.ok("GET", "/api/v1/customers")["total"] == 0


def test_follow_ups(api, cw, app_db):
    ids, sales = cw
    url = f"/api/v1/customers/{ids['mine']}/follow-ups"
    created = sales.ok("POST", url, {"content": "电话沟通 13800138000", "way": "phone", "status": "intent",
                                     "maturity": 60, "next_follow_on": "2030-01-02"}, status=201)
    assert created["content"] == "电话沟通 138****8000" and created["next_follow_on"] == "2030-01-02"
    assert [f["id"] for f in sales.ok("GET", url)["items"]] == [created["id"]]
    assert "13800138000" in api.get(url).get_data(as_text=True)
    tasks = sales.ok("GET", f"/api/v1/customers/{ids['mine']}/tasks")["items"]
    assert [t["kind"] for t in tasks] == ["follow_up"]  # the next follow-up became a task
    done = sales.ok("POST", url, {"content": "已寄样", "task_id": tasks[0]["id"]}, status=201)
    assert done["task_id"] == tasks[0]["id"]
    assert sales.ok("GET", f"/api/v1/customers/{ids['mine']}/tasks?status=done")["items"][0]["progress"] == 100
    with app_db.read() as s:
        assert s.get(Customer, ids["mine"]).follow_count == 2
    cases = [({}, 422, "content"), ({"content": "x", "way": "fax"}, 422, "way"),
             ({"content": "x", "maturity": 101}, 422, "maturity"), ({"content": "x", "maturity": "60"}, 422, "maturity"),
             ({"content": "x", "followed_at": "昨天"}, 422, "followed_at"),
             ({"content": "x", "followed_at": "2099-01-01T00:00:00+08:00"}, 422, "followed_at"),
             ({"content": "x", "next_follow_on": "2030-02-30"}, 422, "next_follow_on"),
             ({"content": "x", "task_id": 99999}, 422, "task_id"), ({"content": "x", "mood": "好"}, 422, "mood")]
    before = count(app_db, FollowUp)
    for body, status, word in cases:
        assert_error(sales.post(url, body), status, word)
    assert count(app_db, FollowUp) == before
    their = f"/api/v1/customers/{ids['theirs']}/follow-ups"
    before = snapshot(app_db, ids["theirs"])
    assert_error(sales.get(their), 404, str(ids["theirs"]))
    assert_error(sales.post(their, {"content": "越权"}), 404, str(ids["theirs"]))
    assert_error(sales.post(their, {"mood": "bad"}), 404, str(ids["theirs"]))  # unknown before the body is judged
    assert snapshot(app_db, ids["theirs"]) == before and count(app_db, FollowUp, FollowUp.customer_id == ids["theirs"]) == 0
    assert_error(sales.get(f"{url}?limit=500"), 400, "limit")


def test_tasks(api, cw, app_db):
    ids, sales = cw
    url = f"/api/v1/customers/{ids['mine']}/tasks"
    task = sales.ok("POST", url, {"title": "寄送样品", "priority": "high", "deadline": "2030-01-10T23:59:00+08:00",
                                  "remind_at": "2030-01-10 09:00"}, status=201)
    assert (task["kind"], task["owner_id"], task["customer_id"]) == ("follow_up", ids["a"], ids["mine"])
    assert task["deadline"] == "2030-01-10T15:59:00+00:00" and task["remind_at"] == "2030-01-10T01:00:00+00:00"
    normal = sales.ok("POST", url, {"title": "给乙的任务", "kind": "normal", "owner_id": ids["b"]}, status=201)
    assert {t["id"] for t in sales.ok("GET", url)["items"]} == {task["id"], normal["id"]}
    cases = [({}, 422, "title"), ({"title": "x", "priority": "asap"}, 422, "priority"),
             ({"title": "x", "owner_id": 99999}, 422, "owner_id"), ({"title": "x", "owner_id": "1"}, 422, "owner_id"),
             ({"title": "x", "deadline": "明天"}, 422, "deadline"),
             ({"title": "x", "deadline": "2030-01-01T00:00:00", "remind_at": "2030-01-02T00:00:00"}, 422, "remind_at"),
             ({"title": "x", "progress": 120}, 422, "progress"), ({"title": "x", "customer_id": ids["theirs"]}, 422,
                                                                  "customer_id")]
    before = count(app_db, Task)
    for body, status, word in cases:
        assert_error(sales.post(url, body), status, word)
    assert count(app_db, Task) == before
    assert_error(sales.get(f"{url}?status=later"), 400, "status")
    their = f"/api/v1/customers/{ids['theirs']}/tasks"
    assert_error(sales.get(their), 404, str(ids["theirs"]))
    assert_error(sales.post(their, {"title": "越权"}), 404, str(ids["theirs"]))
    assert count(app_db, Task, Task.customer_id == ids["theirs"]) == 0


def test_restore_from_the_recycle_bin(api, cw, app_db):
    ids, sales = cw
    sales.ok("POST", "/api/v1/customers/recycle", {"ids": [ids["mine"]]})
    assert_error(sales.post("/api/v1/customers/restore", {"ids": [ids["mine"]]}), 404)  # no longer theirs
    assert api.ok("POST", "/api/v1/customers/restore", {"ids": [ids["mine"]]})["changed"] == 1
    with app_db.read() as s:
        restored = s.get(Customer, ids["mine"])
        assert (restored.status, restored.owner_id) == ("active", None)


def test_transfer(api, cw, app_db):
    ids, sales = cw
    assert_error(sales.post("/api/v1/customers/transfer", {"from_user_id": ids["a"], "to_user_id": ids["b"],
                                                           "reason": "离职"}), 403, "customers.transfer")
    before = snapshot(app_db, ids["mine"], ids["mine2"])
    for body, word in (({"from_user_id": ids["a"], "to_user_id": ids["b"]}, "reason"),
                       ({"from_user_id": ids["a"], "to_user_id": ids["b"], "reason": ""}, "reason"),
                       ({"from_user_id": ids["a"], "to_user_id": ids["a"], "reason": "x"}, "to_user_id"),
                       ({"from_user_id": ids["a"], "to_user_id": 99999, "reason": "x"}, "to_user_id"),
                       ({"from_user_id": "a", "to_user_id": ids["b"], "reason": "x"}, "from_user_id")):
        assert_error(api.post("/api/v1/customers/transfer", body), 422, word)
    assert snapshot(app_db, ids["mine"], ids["mine2"]) == before
    some = api.ok("POST", "/api/v1/customers/transfer", {"from_user_id": ids["a"], "to_user_id": ids["b"],
                                                          "ids": [ids["mine"]], "reason": "调岗"})
    assert some == {"action": "transfer", "requested": 1, "changed": 1}
    rest = api.ok("POST", "/api/v1/customers/transfer", {"from_user_id": ids["a"], "to_user_id": ids["b"],
                                                          "reason": "离职"})
    assert rest["changed"] == 1 and sales.ok("GET", "/api/v1/customers")["total"] == 0
