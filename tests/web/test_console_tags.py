"""标签管理 pages: tree + list render, categories and tags from forms, batch actions, the rule
editor's save/preview JSON (mobile masked for users without pii.view), 自动打标签 as a job, 标签历史."""
from __future__ import annotations

import re

from sqlmodel import select

from crm.customers.models import Customer, CustomField
from crm.jobs.runner import JobRunner
from crm.people import service as people
from crm.tags import categories, service
from crm.tags.apply import apply_tags
from crm.tags.models import Tag, TagCategory

RANGE_ROWS = [{"field": "investable_assets", "op": "gt", "value": "100000", "join": "and"},
              {"field": "investable_assets", "op": "lte", "value": "500000"}]


def _seed(app_db):
    with app_db.write() as s:
        s.add(CustomField(key="investable_assets", label="可投资资产", type="number"))
        s.add_all([Customer(name="张三", mobile="13800138000", attrs={"investable_assets": 200000}),
                   Customer(name="李四", mobile="13900139000", attrs={"investable_assets": 900000})])
        root = categories.create_category(s, {"name": "客户标签"})
        cat = categories.create_category(s, {"name": "可投资资产", "parent_id": root.id})
        auto = service.create_tag(s, {"name": "可投资资产10万-50万", "kind": "auto", "category_id": cat.id,
                                      "score": 2}, None)
        manual = service.create_tag(s, {"name": "户外运动爱好者", "kind": "manual", "category_id": root.id}, None)
        return root.id, cat.id, auto.id, manual.id


def _token(client, path="/tags"):
    html = client.get(path).get_data(as_text=True)
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', html).group(1)


def test_index_shows_tree_list_and_counts(client, admin_user, login, app_db):
    root, cat, auto, manual = _seed(app_db)
    login(client)
    html = client.get("/tags").get_data(as_text=True)
    for text in ("标签分类", "客户标签", "可投资资产10万-50万", "全局自动标签", "全局手动标签", "包含下级", "自动打标签",
                 "记录数", "标签规则"):
        assert text in html
    only_cat = client.get(f"/tags?category={cat}&children=0").get_data(as_text=True)
    assert "可投资资产10万-50万" in only_cat and "户外运动爱好者" not in only_cat
    with_children = client.get(f"/tags?category={root}&children=1").get_data(as_text=True)
    assert "可投资资产10万-50万" in with_children and "户外运动爱好者" in with_children


def test_category_and_tag_forms(client, admin_user, login, app_db):
    login(client)
    token = _token(client)
    assert client.post("/tags/categories", data={"name": "外部标签", "position": "1", "csrf_token": token}).status_code == 302
    with app_db.read() as s:
        outer = s.exec(select(TagCategory).where(TagCategory.name == "外部标签")).one()
    client.post("/tags/categories", data={"name": "兴趣爱好", "parent_id": outer.id, "csrf_token": token})
    with app_db.read() as s:
        hobby = s.exec(select(TagCategory).where(TagCategory.name == "兴趣爱好")).one()
    resp = client.post("/tags/new", data={"name": "户外运动爱好者", "kind": "manual", "category_id": hobby.id,
                                          "validity_days": "", "score": "3", "enabled": "1", "csrf_token": token})
    assert resp.status_code == 302
    bad = client.post("/tags/new", data={"name": "", "kind": "manual", "category_id": hobby.id, "score": "x",
                                         "csrf_token": token})
    assert bad.status_code == 400 and "请填写标签名称" in bad.get_data(as_text=True)
    with app_db.read() as s:
        tag = s.exec(select(Tag).where(Tag.name == "户外运动爱好者")).one()
    assert (tag.kind, tag.score, tag.validity_days) == ("manual", 3, None)
    page = client.get(f"/tags/{tag.id}/edit").get_data(as_text=True)
    assert "编辑标签" in page and ">个人标签</option>" not in page
    refused = client.post(f"/tags/categories/{outer.id}/delete", data={"csrf_token": token}, follow_redirects=True)
    assert "下级分类" in refused.get_data(as_text=True)
    with app_db.read() as s:
        assert s.get(TagCategory, outer.id) is not None


def test_rule_editor_save_preview_and_autotag_job(client, admin_user, login, app_db, app):
    _, _, auto, _ = _seed(app_db)
    login(client)
    page = client.get(f"/tags/{auto}/rule").get_data(as_text=True)
    assert "自定义条件" in page and "自定义SQL" in page and "rule-editor-data" in page and "可投资资产" in page
    token = _token(client)
    headers = {"X-CSRFToken": token}
    preview = client.post("/tags/rule/preview", json={"rule": {"mode": "conditions", "rows": RANGE_ROWS}}, headers=headers)
    assert preview.status_code == 200
    body = preview.get_json()
    assert body["count"] == 1 and body["customers"][0]["name"] == "张三"
    refused = client.post("/tags/rule/preview", json={"rule": {"mode": "sql", "sql": "DELETE FROM customer"}},
                          headers=headers)
    assert refused.status_code == 422 and "只允许" in refused.get_data(as_text=True)
    selfref = client.post(f"/tags/{auto}/rule", json={"rule": {"mode": "conditions", "include_tags": [auto]}},
                          headers=headers)
    assert selfref.status_code == 422 and "自身" in selfref.get_data(as_text=True)
    saved = client.post(f"/tags/{auto}/rule", json={"rule": {"mode": "conditions", "rows": RANGE_ROWS}}, headers=headers)
    assert saved.status_code == 200 and saved.get_json()["ok"]
    resp = client.post("/tags/batch", data={"action": "autotag", "ids": [auto], "csrf_token": token})
    assert resp.status_code == 302 and "job=" in resp.headers["Location"]
    job_id = int(resp.headers["Location"].split("job=")[1].split("&")[0])
    JobRunner(app.extensions["ckb"].services).run_pending()
    status = client.get(f"/tags/jobs/{job_id}").get_json()["job"]
    assert status["status"] == "done" and status["percent"] == 100
    listing = client.get(f"/tags?job={job_id}").get_data(as_text=True)
    assert "自动打标签任务 #" in listing
    # The job stamps history with the wall clock (a job has no test clock), so widen the range.
    history = client.get("/tags/history?start=2000-01-01&end=2100-01-01").get_data(as_text=True)
    assert "可投资资产10万-50万" in history and "张三" in history and "自动" in history and "新增" in history


def test_preview_masks_mobile_without_pii_permission(client, admin_user, login, app_db):
    _seed(app_db)
    people.create_role(app_db, "tag_admin", "标签管理员", ["tags.view", "tags.manage", "customers.view_all"])
    people.create_user(app_db, "tagger", "Tagger12345", display_name="标签管理员", roles=["tag_admin"])
    login(client, "tagger", "Tagger12345")
    token = _token(client)
    body = client.post("/tags/rule/preview", json={"rule": {"mode": "conditions", "rows": RANGE_ROWS}},
                       headers={"X-CSRFToken": token})
    assert body.status_code == 200
    assert body.get_json()["customers"][0]["mobile"] == "138****8000"
    assert client.get("/tags/history").status_code == 403  # 标签历史 needs crmlogs.view


def test_preview_counts_only_customers_the_user_may_see(client, admin_user, login, app_db):
    _seed(app_db)
    people.create_role(app_db, "tag_only", "标签维护", ["tags.view", "tags.manage"])
    user = people.create_user(app_db, "tagger", "Tagger12345", roles=["tag_only"])
    with app_db.write() as s:
        s.add(Customer(name="我的客户", mobile="13700137000", owner_id=user.id, attrs={"investable_assets": 200000}))
    login(client, "tagger", "Tagger12345")
    headers = {"X-CSRFToken": _token(client)}
    for rule in ({"mode": "sql", "sql": "select id from customer"}, {"mode": "conditions", "rows": RANGE_ROWS}):
        body = client.post("/tags/rule/preview", json={"rule": rule}, headers=headers).get_json()
        assert body["count"] == 1 and [c["name"] for c in body["customers"]] == ["我的客户"], rule


def test_batch_enable_disable_delete(client, admin_user, login, app_db):
    _, _, auto, manual = _seed(app_db)
    login(client)
    token = _token(client)
    client.post("/tags/batch", data={"action": "disable", "ids": [auto, manual], "csrf_token": token})
    with app_db.read() as s:
        assert not s.get(Tag, auto).enabled and not s.get(Tag, manual).enabled
    client.post("/tags/batch", data={"action": "enable", "ids": [manual], "csrf_token": token})
    client.post("/tags/batch", data={"action": "delete", "ids": [manual], "csrf_token": token})
    with app_db.read() as s:
        assert s.get(Tag, manual) is None and s.get(Tag, auto) is not None


def test_history_filters_default_to_today(client, admin_user, login, app_db, app):
    _, _, _, manual = _seed(app_db)
    svc = app.extensions["ckb"].services
    with app_db.write() as s:
        ids = list(s.exec(select(Customer.id)))
        apply_tags(s, ids, [manual], operator_id=admin_user.id, now=svc.now())
    login(client)
    html = client.get("/tags/history").get_data(as_text=True)
    assert html.count("户外运动爱好者") >= 2 and "系统管理员" in html and "手动" in html
    assert "13800138000" in html  # the admin holds pii.view
    assert "户外运动爱好者" not in client.get("/tags/history?action=remove").get_data(as_text=True).split("</form>")[-1]
    assert "没有标签历史" in client.get("/tags/history?start=2020-01-01&end=2020-01-02").get_data(as_text=True)
