"""群裂变 (members with an inviter; leaving every campaign group lapses the invitation), 分销裂变
(commission on an invitee's paid order, reversed on refund) and 拼团 (buyers in the team)."""
from __future__ import annotations

from sqlmodel import select

from commerce.orders.flow import transition
from commerce.orders.refunds import refund
from commerce.orders.service import create_order
from community.fission.models import Campaign, Invitation, Participant, StageReward
from community.ledger_models import CommissionEntry
from crm.customers.models import Customer
from crm.scope import SYSTEM
from devices.models import ChatGroup
from engine.fission import settle_campaigns
from tests.commerce.order_world import make_sku
from tests.community.fission.world import make_world, report


def test_group_fission_counts_invited_members_and_lapses_when_they_leave_every_group(db, clock, runtime):
    w = make_world(db, clock, kind="invite", hold_hours=24)
    a1 = w["accounts"][0]
    with db.write() as s:
        g1, g2 = ChatGroup(account_id=a1, chatroom_id="r1@chatroom", name="福利群1"), ChatGroup(account_id=a1, chatroom_id="r2@chatroom", name="福利群2")
        s.add_all([g1, g2])
        s.flush()
        campaign = s.get(Campaign, w["campaign"])
        campaign.kind, campaign.group_ids = "group", [g1.id, g2.id]
        s.add(campaign)
    joined = {"chatroom_id": "r1@chatroom", "members": [{"wxid": "wx_m1", "nickname": "甲", "inviter_wxid": "wx_seed"},
                                                         {"wxid": "wx_m2", "nickname": "乙", "inviter_wxid": "wx_seed"},
                                                         {"wxid": "wx_m3", "nickname": "丙"}]}
    report(db, clock, a1, "group_member_joined", joined)
    report(db, clock, a1, "group_member_joined", {"chatroom_id": "r2@chatroom", "members": [
        {"wxid": "wx_m1", "inviter_wxid": "wx_seed"}]})
    clock.advance(hours=1)
    report(db, clock, a1, "group_member_left", {"chatroom_id": "r1@chatroom", "members": [{"wxid": "wx_m1"}, {"wxid": "wx_m2"}]})
    with db.read() as s:
        rows = {(i.invitee_wxid, i.ref): (i.status, i.reason) for i in s.exec(select(Invitation))}
    assert rows[("wx_m1", "group:wx_m1")] == ("pending", "")  # still in 福利群2
    assert rows[("wx_m2", "group:wx_m2")] == ("lapsed", "考察期内退出了全部活动群")
    assert not any(k[0] == "wx_m3" for k in rows)  # joined by themselves: no inviter, no invitation
    clock.advance(hours=24)
    assert "有效 1" in settle_campaigns(runtime)


def _paid_order(db, clock, customer_id, fen=10000):
    with db.write() as s:
        sku = make_sku(s, f"SKU-{customer_id}", fen, 10)
        order = create_order(s, {"customer_id": customer_id, "lines": [{"sku_id": sku, "quantity": 1}]}, SYSTEM,
                             now=clock.now()).order
        transition(s, order.id, "pay", SYSTEM, now=clock.now())
        return order.id


def test_distribution_credits_commission_and_reverses_it_on_refund(db, clock, runtime):
    w = make_world(db, clock, hold_hours=1)
    with db.write() as s:
        campaign = s.get(Campaign, w["campaign"])
        campaign.kind, campaign.commission_bp = "distribution", 1000
        s.add(campaign)
    report(db, clock, w["accounts"][0], "friend_added", {"wxid": "wx_buyer", "state": "fis-" + w["code"]})
    clock.advance(hours=2)
    with db.read() as s:
        buyer = s.exec(select(Customer).where(Customer.wechat_id == "wx_buyer")).one().id
    order = _paid_order(db, clock, buyer)
    settle_campaigns(runtime)
    with db.read() as s:
        entry = s.exec(select(CommissionEntry)).one()
        assert (entry.beneficiary_customer_id, entry.amount_fen, entry.order_id) == (w["seed"], 1000, order)
    with db.write() as s:
        refund(s, order, {"amount_fen": 10000, "restock": False, "reason": "不想要了"}, SYSTEM, now=clock.now())
    assert "冲回 1" in settle_campaigns(runtime)
    with db.read() as s:
        assert s.exec(select(CommissionEntry)).one().status == "reversed"


def test_team_buy_counts_buyers_in_the_team(db, clock, runtime):
    w = make_world(db, clock, hold_hours=0, kind="team")
    for n in range(2):
        report(db, clock, w["accounts"][0], "friend_added", {"wxid": f"wx_t{n}", "state": "fis-" + w["code"]})
    settle_campaigns(runtime)
    with db.read() as s:
        members = [c.id for c in s.exec(select(Customer).where(Customer.wechat_id.in_(["wx_t0", "wx_t1"])))]
    _paid_order(db, clock, w["seed"])
    _paid_order(db, clock, members[0])
    settle_campaigns(runtime)
    with db.read() as s:
        assert s.exec(select(StageReward)).first() is None  # 2 buyers of 3
    _paid_order(db, clock, members[1])
    assert "达成阶梯 1" in settle_campaigns(runtime)
    with db.read() as s:
        assert s.exec(select(StageReward)).one().participant_id == w["participant"]
        assert s.get(Participant, w["participant"]).valid == 2
