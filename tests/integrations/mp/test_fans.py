"""微信粉丝: sync with next_openid paging and batchget, unsubscribed fans marked, binding by unionid
(across 公众号) and by hand, and the conversation following the binding to the customer's owner."""
from __future__ import annotations

import pytest
from sqlmodel import select

from conversations.models import Conversation
from crm.customers.models import Customer
from crm.errors import NotFound
from crm.scope import SYSTEM, Viewer
from integrations.mp import fans
from integrations.mp.models import MpFan
from tests.integrations.mp.conftest import APPID


def _fans(svc):
    with svc.db.read() as s:
        return {f.openid: f for f in s.exec(select(MpFan))}


def test_sync_pages_through_every_follower(mp_app, make_account, svc, fake_mp):
    account = make_account()
    fake_mp.page_size = 100
    for i in range(250):
        fake_mp.add_fan(APPID, f"o{i:04d}", unionid=f"u{i:04d}" if i % 2 else "")
    fake_mp.add_fan(APPID, "o_gone", subscribed=False)
    with svc.db.write() as s:
        s.add(MpFan(account_id=account.id, openid="o_left_long_ago", subscribed=True))
    result = fans.sync(svc, account.id)
    assert result == {"followers": 250, "unsubscribed": 1, "bound": 0}
    rows = _fans(svc)
    assert len([f for f in rows.values() if f.subscribed]) == 250
    assert rows["o0001"].unionid == "u0001" and rows["o0002"].unionid == ""
    assert not rows["o_left_long_ago"].subscribed and rows["o_left_long_ago"].unsubscribed_at is not None
    assert len([r for r in fake_mp.requests_to("/cgi-bin/user/info/batchget")]) == 3


def test_unionid_binds_a_fan_to_the_customer_of_its_other_fan(mp_app, make_account, svc, fake_mp, staff):
    account = make_account()
    with svc.db.write() as s:
        customer = Customer(name="张三", owner_id=staff["owner"])
        s.add(customer)
        s.flush()
        # The same person as a fan of another 公众号, already bound.
        s.add(MpFan(account_id=999, openid="o_other_account", unionid="u-zhang", customer_id=customer.id,
                    bound_by="manual"))
        customer_id = customer.id
    fake_mp.add_fan(APPID, "o_zhang", unionid="u-zhang")
    fake_mp.add_fan(APPID, "o_li", unionid="u-li")
    assert fans.sync(svc, account.id)["bound"] == 1
    rows = _fans(svc)
    assert (rows["o_zhang"].customer_id, rows["o_zhang"].bound_by) == (customer_id, "unionid")
    assert rows["o_li"].customer_id is None


def test_binding_by_hand_moves_the_conversation_to_the_owner(mp_app, pusher, svc, staff):
    push, account = pusher("safe")
    assert push.text("o_wang", "你好", msg_id=77).post(mp_app.test_client()).status_code == 200
    with svc.db.write() as s:
        mine = Customer(name="王五", owner_id=staff["owner"])
        other = Customer(name="别人的客户", owner_id=None)
        s.add_all([mine, other])
        s.flush()
        s.add(MpFan(account_id=account.id + 1, openid="o_wang_elsewhere", unionid="u-wang"))
        fan = s.exec(select(MpFan).where(MpFan.openid == "o_wang")).one()
        fan.unionid = "u-wang"
        s.add(fan)
        ids = {"fan": fan.id, "mine": mine.id, "other": other.id}
    with svc.db.read() as s:
        assert s.exec(select(Conversation)).one().assignee_id == staff["kefu"]
    sales = Viewer(staff["owner"], frozenset({"customers.view"}))
    with pytest.raises(NotFound):
        with svc.db.write() as s:
            fans.bind(s, sales, ids["fan"], ids["other"], svc.now())
    with svc.db.write() as s:
        fans.bind(s, SYSTEM, ids["fan"], ids["mine"], svc.now())
    rows = _fans(svc)
    assert (rows["o_wang"].customer_id, rows["o_wang"].bound_by) == (ids["mine"], "manual")
    assert (rows["o_wang_elsewhere"].customer_id, rows["o_wang_elsewhere"].bound_by) == (ids["mine"], "unionid")
    with svc.db.read() as s:
        conv = s.exec(select(Conversation)).one()
        assert (conv.customer_id, conv.assignee_id) == (ids["mine"], staff["owner"])
    # The next message of a bound fan carries the customer; unbinding clears the conversation's link.
    with svc.db.write() as s:
        fans.unbind(s, ids["fan"], svc.now())
    with svc.db.read() as s:
        assert s.exec(select(Conversation)).one().customer_id is None
        assert s.get(MpFan, ids["fan"]).bound_by == ""


def test_a_bound_customers_owner_receives_a_new_fans_first_message(mp_app, pusher, svc, staff):
    push, account = pusher("safe")
    with svc.db.write() as s:
        customer = Customer(name="赵六", owner_id=staff["owner"])
        s.add(customer)
        s.flush()
        s.add(MpFan(account_id=account.id, openid="o_zhao", customer_id=customer.id, bound_by="manual"))
    assert push.text("o_zhao", "想买", msg_id=88).post(mp_app.test_client()).status_code == 200
    with svc.db.read() as s:
        conv = s.exec(select(Conversation)).one()
        assert (conv.customer_id, conv.assignee_id) == (customer.id, staff["owner"])
