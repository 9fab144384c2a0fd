"""KOC 管理 and the KOC H5: marking (tag 「KOC」) and unmarking (tag removed, link dead), field errors,
the H5's signed link, a stale form token, another KOC's group refused, rate limits, permissions."""
from __future__ import annotations

import re

import pytest
from sqlmodel import select

from community.koc.models import Koc, KocCheckin
from crm.customers.models import Customer
from crm.people import service as people
from crm.tags.models import CustomerTag
from devices.models import ChatGroup, WechatAccount
from tests.web.conftest import get_csrf_token


@pytest.fixture
def admin(app, client, admin_user, login, app_db):
    assert login(client).status_code == 302
    with app_db.write() as s:
        acc = WechatAccount(wxid="wx_robot", nickname="客服")
        s.add(acc)
        s.flush()
        groups = [ChatGroup(account_id=acc.id, chatroom_id=f"g{i}@chatroom", name=f"宝妈{i}群") for i in range(2)]
        customer = Customer(name="小美")
        s.add_all([*groups, customer])
        s.flush()
        ids = {"groups": [g.id for g in groups], "customer": customer.id}
    return {"client": client, "csrf": get_csrf_token(client, "/koc"), **ids}


def post(w, url, data):
    return w["client"].post(url, data={**data, "csrf_token": w["csrf"]})


def h5_path(w, koc_id) -> str:
    page = w["client"].get(f"/koc?koc={koc_id}").get_data(as_text=True)
    return "/k/" + re.search(r"/k/([A-Za-z0-9_.\-]+)", page).group(1)


def test_mark_unmark_and_errors(admin, app_db):
    bad = post(admin, "/koc/mark", {"customer_id": "", "user_id": ""})
    assert bad.status_code == 400 and "请选择一位客户或一位员工" in bad.get_data(as_text=True)
    assert post(admin, "/koc/mark", {"customer_id": "99999"}).status_code == 400
    assert post(admin, "/koc/mark", {"customer_id": str(admin["customer"]), "wxid": "wx_mei"}).status_code == 302
    with app_db.read() as s:
        koc = s.exec(select(Koc)).one()
        assert koc.wxid == "wx_mei" and koc.active
        assert s.exec(select(CustomerTag).where(CustomerTag.customer_id == admin["customer"])).all()
    path = h5_path(admin, koc.id)
    assert admin["client"].get(path).status_code == 200
    assert post(admin, f"/koc/{koc.id}/groups", {"group_ids": [str(admin["groups"][0]), "99999"]}).status_code == 400
    assert post(admin, f"/koc/{koc.id}/groups", {"group_ids": [str(admin["groups"][0])]}).status_code == 302
    bad_task = post(admin, f"/koc/{koc.id}/tasks", {"kind": "topic", "title": "", "group_id": str(admin["groups"][1]),
                                                     "due_at": ""})
    body = bad_task.get_data(as_text=True)
    assert bad_task.status_code == 400 and "请填写任务标题" in body
    assert post(admin, f"/koc/{koc.id}/unmark", {}).status_code == 302
    with app_db.read() as s:
        assert not s.get(Koc, koc.id).active
        assert not s.exec(select(CustomerTag).where(CustomerTag.customer_id == admin["customer"])).all()
    assert admin["client"].get(path).status_code == 404  # the old link died with the mark
    assert post(admin, "/koc/99999/unmark", {}).status_code == 404


def test_h5_refuses_a_stale_form_another_group_and_bursts(app, admin, app_db):
    post(admin, "/koc/mark", {"customer_id": str(admin["customer"]), "wxid": "wx_mei"})
    with app_db.read() as s:
        koc_id = s.exec(select(Koc)).one().id
    post(admin, f"/koc/{koc_id}/groups", {"group_ids": [str(admin["groups"][0])]})
    path = h5_path(admin, koc_id)
    visitor = app.test_client()
    page = visitor.get(path).get_data(as_text=True)
    token = re.search(r'name="form_token" value="([^"]+)"', page).group(1)
    stale = visitor.post(path + "/checkin", data={"form_token": "x" + token, "group_id": str(admin["groups"][0]),
                                                  "keyword": "打卡", "points": "2"})
    assert stale.status_code == 400 and "页面已过期" in stale.get_data(as_text=True)
    other = visitor.post(path + "/checkin", data={"form_token": token, "group_id": str(admin["groups"][1]),
                                                  "keyword": "打卡", "points": "2"})
    assert other.status_code == 400 and "请选择您带领的群" in other.get_data(as_text=True)
    bad = visitor.post(path + "/checkin", data={"form_token": token, "group_id": str(admin["groups"][0]),
                                                "keyword": "", "points": "999"})
    text = bad.get_data(as_text=True)
    assert bad.status_code == 400 and "请填写打卡口令" in text and "0–100" in text
    with app_db.read() as s:
        assert s.exec(select(KocCheckin)).all() == []
    limit = app.extensions["ckb"].settings.koc_h5_limit_per_minute
    codes = [visitor.get(path).status_code for _ in range(limit)]
    assert codes[-1] == 429 and "操作过于频繁" in visitor.get(path).get_data(as_text=True)


def test_sales_cannot_manage_kocs(app, app_db, admin_user, login):
    people.ensure_builtin_roles(app_db)
    people.create_user(app_db, "sales_a", "Sales12345", roles=["sales"])
    sales = app.test_client()
    assert login(sales, "sales_a", "Sales12345").status_code == 302
    assert sales.get("/koc").status_code == 403
