"""客户详情 日常操作 (seed 001 图 69): 打电话 (tel: for who may see the number, the call logged as a
电话 跟进记录), 发短信 (短信推送 for this customer), 打标签 (manual and own personal tags, not auto
tags, removable); another salesperson's customer answers 404 and stays untouched."""
from __future__ import annotations

import pytest
from sqlmodel import select

from crm.customers.models import Customer
from crm.people import masking, service as people
from crm.people.models import User
from crm.sales.models import FollowUp
from crm.tags.models import CustomerTag, Tag, TagCategory
from tests.web.conftest import get_csrf_token

PASSWORD = "Sales12345"


@pytest.fixture
def world(app, app_db, login):
    people.ensure_builtin_roles(app_db)
    a = people.create_user(app_db, "sales_a", PASSWORD, display_name="业务员甲", roles=["sales"]).id
    b = people.create_user(app_db, "sales_b", PASSWORD, display_name="业务员乙", roles=["sales"]).id
    with app_db.write() as s:
        cat = TagCategory(name="意向")
        s.add(cat)
        s.flush()
        tags = {"hot": Tag(category_id=cat.id, name="高意向"), "auto": Tag(category_id=cat.id, name="自动VIP", kind="auto"),
                "mine": Tag(category_id=cat.id, name="甲的私藏", kind="personal", owner_id=a),
                "theirs": Tag(category_id=cat.id, name="乙的私藏", kind="personal", owner_id=b)}
        mine, theirs = Customer(name="张三", mobile="13800138000", owner_id=a), Customer(name="李四", owner_id=b)
        s.add_all([*tags.values(), mine, theirs])
        s.flush()
        ids = {k: t.id for k, t in tags.items()} | {"mine_c": mine.id, "theirs_c": theirs.id}
    client = app.test_client()
    assert login(client, "sales_a", PASSWORD).status_code == 302
    return {"client": client, "token": get_csrf_token(client, "/customers"), "ids": ids}


def _links(app_db, customer_id):
    with app_db.read() as s:
        return sorted(s.exec(select(CustomerTag.tag_id).where(CustomerTag.customer_id == customer_id)))


def test_detail_shows_the_daily_actions(world, app_db):
    i, client = world["ids"], world["client"]
    html = client.get(f"/customers/{i['mine_c']}").get_data(as_text=True)
    # 脱敏 by default: the number is neither shown nor put in a tel: link.
    assert "日常操作" in html and "tel:" not in html and "13800138000" not in html and "不能直接拨打" in html
    with app_db.read() as s:
        a = s.exec(select(User.id).where(User.username == "sales_a")).one()
    masking.set_mask_mode(app_db, a, masking.PRIVATE_CLEAR)  # 脱敏管理: own customers in clear
    html = client.get(f"/customers/{i['mine_c']}").get_data(as_text=True)
    assert 'href="tel:13800138000"' in html
    assert f"/customers/sms-push?ids={i['mine_c']}" in html and "记录通话" in html
    assert "高意向" in html and "甲的私藏（个人）" in html and "乙的私藏" not in html
    assert '<option value="%d">自动VIP' % i["auto"] not in html
    one = client.get(f"/customers/sms-push?ids={i['mine_c']}").get_data(as_text=True)
    assert "已选 <strong>1</strong> 人：张三" in one


def test_call_is_logged_as_a_phone_follow_up(app_db, world):
    i, client, token = world["ids"], world["client"], world["token"]
    resp = client.post(f"/customers/{i['mine_c']}/call", data={"csrf_token": token, "status": "intent",
                                                               "content": "约了下周到店"})
    assert resp.status_code == 302 and resp.location.endswith("#followups")
    with app_db.read() as s:
        [f] = s.exec(select(FollowUp)).all()
        assert (f.way, f.status, f.content, f.customer_id) == ("phone", "intent", "约了下周到店", i["mine_c"])
        assert s.get(Customer, i["mine_c"]).follow_count == 1
    resp = client.post(f"/customers/{i['mine_c']}/call", data={"csrf_token": token, "status": "invalid"})
    with app_db.read() as s:
        assert s.exec(select(FollowUp.content).order_by(FollowUp.id.desc())).first() == "拨打电话：空号/无效"
    assert client.post(f"/customers/{i['theirs_c']}/call", data={"csrf_token": token}).status_code == 404
    with app_db.read() as s:
        assert s.get(Customer, i["theirs_c"]).follow_count == 0


def test_tag_and_untag_on_the_detail_page(app_db, world):
    i, client, token = world["ids"], world["client"], world["token"]
    for tag in ("hot", "mine"):
        assert client.post(f"/customers/{i['mine_c']}/tags", data={"csrf_token": token,
                                                                   "tag_ids": str(i[tag])}).status_code == 302
    assert _links(app_db, i["mine_c"]) == sorted([i["hot"], i["mine"]])
    for tag in ("auto", "theirs"):  # an auto tag is the rules'; another's personal tag does not exist
        client.post(f"/customers/{i['mine_c']}/tags", data={"csrf_token": token, "tag_ids": str(i[tag])})
    assert _links(app_db, i["mine_c"]) == sorted([i["hot"], i["mine"]])
    html = client.get(f"/customers/{i['mine_c']}").get_data(as_text=True)
    assert "移除标签「高意向」" in html
    assert client.post(f"/customers/{i['mine_c']}/tags/{i['hot']}/remove", data={"csrf_token": token}).status_code == 302
    assert _links(app_db, i["mine_c"]) == [i["mine"]]
    assert client.post(f"/customers/{i['theirs_c']}/tags", data={"csrf_token": token,
                                                                 "tag_ids": str(i["hot"])}).status_code == 404
    assert client.post(f"/customers/{i['theirs_c']}/tags/{i['hot']}/remove",
                       data={"csrf_token": token}).status_code == 404
    assert _links(app_db, i["theirs_c"]) == []

