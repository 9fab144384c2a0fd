"""个人标签 for a 业务员 (seed 001 §3.1.1.2: only the owner manages and sees them) and 复制 of tags with
their rules (a copied auto tag starts disabled)."""
from __future__ import annotations

import pytest
from sqlmodel import select

from crm.customers.models import Customer
from crm.people import service as people
from crm.people.models import Role
from crm.tags.models import CustomerTag, Tag, TagCategory
from tests.web.conftest import get_csrf_token

PASSWORD = "Sales12345"
RULE = {"mode": "conditions", "rows": [{"field": "city", "op": "eq", "value": "上海"}], "include_tags": [],
        "exclude_tags": [], "sql": ""}


@pytest.fixture
def world(app, app_db, login):
    people.ensure_builtin_roles(app_db)
    with app_db.write() as s:  # the 业务员 role with 管理自己的个人标签 (the role editor's job on a live system)
        role = s.exec(select(Role).where(Role.code == "sales")).one()
        role.permissions = sorted(set(role.permissions) | {"tags.personal"})
    a = people.create_user(app_db, "sales_a", PASSWORD, display_name="业务员甲", roles=["sales"]).id
    b = people.create_user(app_db, "sales_b", PASSWORD, display_name="业务员乙", roles=["sales"]).id
    with app_db.write() as s:
        cat = TagCategory(name="主观")
        s.add(cat)
        s.flush()
        auto = Tag(category_id=cat.id, name="上海客户", kind="auto", rule=RULE, score=3)
        b_tag = Tag(category_id=cat.id, name="乙的私藏", kind="personal", owner_id=b)
        mine = Customer(name="张三", owner_id=a)
        s.add_all([auto, b_tag, mine])
        s.flush()
        ids = {"cat": cat.id, "auto": auto.id, "b_tag": b_tag.id, "mine": mine.id, "a": a}
    client = app.test_client()
    assert login(client, "sales_a", PASSWORD).status_code == 302
    return {"client": client, "token": get_csrf_token(client, "/tags/personal"), "ids": ids}


def _tags(app_db):
    with app_db.read() as s:
        return {t.name: t for t in s.exec(select(Tag))}


def test_a_salesperson_keeps_personal_tags_only_they_see(app, app_db, world, login):
    client, token, i = world["client"], world["token"], world["ids"]
    bad = client.post("/tags/personal", data={"csrf_token": token, "name": "", "category_id": str(i["cat"])})
    assert bad.status_code == 400 and "请填写标签名称" in bad.get_data(as_text=True)
    resp = client.post("/tags/personal", data={"csrf_token": token, "name": "靠谱", "category_id": str(i["cat"]),
                                               "score": "2", "validity_days": ""})
    assert resp.status_code == 302
    tag = _tags(app_db)["靠谱"]
    assert (tag.kind, tag.owner_id, tag.score) == ("personal", i["a"], 2)
    html = client.get("/tags/personal").get_data(as_text=True)
    assert "靠谱" in html and "乙的私藏" not in html
    # applied to the salesperson's own customer from the detail page, seen by nobody else
    client.post(f"/customers/{i['mine']}/tags", data={"csrf_token": token, "tag_ids": str(tag.id)})
    with app_db.read() as s:
        assert s.exec(select(CustomerTag.tag_id).where(CustomerTag.customer_id == i["mine"])).all() == [tag.id]
    other = app.test_client()
    login(other, "sales_b", PASSWORD)
    assert "靠谱" not in other.get("/tags/personal").get_data(as_text=True)
    assert "靠谱" not in other.get("/tags").get_data(as_text=True)
    other_token = get_csrf_token(other, "/tags/personal")
    assert other.post(f"/tags/personal/{tag.id}/delete", data={"csrf_token": other_token}).status_code == 404
    assert other.post("/tags/copy", data={"csrf_token": other_token, "ids": str(tag.id)}).status_code == 404
    # a global tag is not a 业务员's to copy or delete
    assert client.post("/tags/copy", data={"csrf_token": token, "ids": str(i["auto"])}).status_code == 404
    assert client.post(f"/tags/personal/{i['auto']}/delete", data={"csrf_token": token}).status_code == 404
    assert client.post("/tags/copy", data={"csrf_token": token, "ids": str(tag.id)}).status_code == 302
    assert _tags(app_db)["靠谱 - 副本"].owner_id == i["a"]
    assert client.post(f"/tags/personal/{tag.id}/delete", data={"csrf_token": token}).status_code == 302
    assert "靠谱" not in _tags(app_db)
    with app_db.read() as s:
        assert s.exec(select(CustomerTag)).all() == []


def test_copy_keeps_the_rule_and_starts_disabled(client, admin_user, login, app_db, world):
    login(client)
    token = get_csrf_token(client, "/tags")
    i = world["ids"]
    for _ in range(2):
        assert client.post("/tags/copy", data={"csrf_token": token, "ids": str(i["auto"])}).status_code == 302
    tags = _tags(app_db)
    first, second = tags["上海客户 - 副本"], tags["上海客户 - 副本2"]
    assert first.rule == RULE and second.rule == RULE and (first.kind, first.score) == ("auto", 3)
    assert not first.enabled and tags["上海客户"].enabled
    assert "已复制 1 个标签" in client.get("/tags").get_data(as_text=True)
    assert client.post("/tags/copy", data={"csrf_token": token, "ids": str(i["b_tag"])}).status_code == 404
