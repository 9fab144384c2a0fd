"""Attribution with anti-fraud from phone reports, hold-period settlement, and the stage reward
going through the executor (a fission.stage_reached event with its 抽取盲盒 step)."""
from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from community import points
from community.fission import participants
from community.fission.models import Invitation, Participant, StageReward
from community.rewards.models import BoxDraw, BoxPrize
from crm.customers.models import Customer
from devices.models import Friend
from engine.fission import settle_campaigns
from engine.models import StrategyTask
from events.models import EventRecord
from tests.community.fission.world import make_world, report


def _invitations(db, campaign_id):
    with db.read() as s:
        return list(s.exec(select(Invitation).where(Invitation.campaign_id == campaign_id)))


def test_friends_with_the_code_become_invitations_and_fraud_is_refused_with_reasons(db, clock):
    w = make_world(db, clock)
    a1, a2 = w["accounts"]
    state = participants.STATE_PREFIX + w["code"]
    with db.write() as s:  # an old friend of the pool account, from before the campaign
        s.add(Friend(account_id=a2, wxid="wx_old", added_at=clock.now() - timedelta(days=5)))
        s.add(Customer(name="老客户", wechat_id="wx_oldcustomer", created_at=clock.now() - timedelta(days=9)))
    for n in range(3):
        report(db, clock, a1, "friend_added", {"wxid": f"wx_new{n}", "nickname": f"新朋友{n}", "state": state})
    report(db, clock, a1, "friend_added", {"wxid": "wx_new0", "nickname": "新朋友0", "state": state})  # re-sent
    report(db, clock, a1, "friend_added", {"wxid": "wx_seed", "nickname": "自己", "state": state})
    report(db, clock, a1, "friend_added", {"wxid": "wx_old", "nickname": "老朋友", "state": state})
    report(db, clock, a1, "friend_added", {"wxid": "wx_oldcustomer", "nickname": "老客户", "state": state})
    report(db, clock, a2, "friend_added", {"wxid": "wx_new1", "nickname": "新朋友1", "state": state})  # same person again
    report(db, clock, a1, "friend_added", {"wxid": "wx_plain", "nickname": "普通好友"})  # no code: not a campaign arrival
    rows = _invitations(db, w["campaign"])
    assert sorted(i.invitee_wxid for i in rows if i.status == "pending") == ["wx_new0", "wx_new1", "wx_new2"]
    refused = sorted((i.invitee_wxid, i.reason) for i in rows if i.status == "refused")
    with db.read() as s:
        dup = [i.reason for i in s.exec(select(Invitation).where(Invitation.ref == f"friend:{a2}:wx_new1"))]
    assert dup == ["重复邀请：该用户已计入你的邀请"]
    assert ("wx_seed", "不能邀请自己") in refused
    assert ("wx_old", "活动开始前已是好友，不计入邀请") in refused
    assert ("wx_oldcustomer", "活动开始前已是客户，不计入邀请") in refused
    assert "wx_plain" not in {i.invitee_wxid for i in rows} and len(rows) == 7
    with db.read() as s:
        seed = s.get(Participant, w["participant"])
        assert (seed.invited, seed.valid) == (3, 0)
        children = s.exec(select(Participant).where(Participant.parent_id == seed.id)).all()
        assert sorted(c.level for c in children) == [2, 2, 2]
        invitee = s.exec(select(Customer).where(Customer.wechat_id == "wx_new0")).one()
        assert invitee.invited_by_id == w["seed"]


def test_a_second_participant_cannot_count_a_person_already_invited(db, clock):
    w = make_world(db, clock)
    a1, a2 = w["accounts"]
    report(db, clock, a1, "friend_added", {"wxid": "wx_p", "nickname": "被邀请人",
                                           "state": participants.STATE_PREFIX + w["code"]})
    with db.read() as s:
        child = s.exec(select(Participant).where(Participant.parent_id == w["participant"])).one()
    report(db, clock, a2, "friend_added", {"wxid": "wx_p", "nickname": "被邀请人", "state": "fis-" + child.code})
    with db.read() as s:
        again = s.exec(select(Invitation).where(Invitation.participant_id == child.id)).one()
    assert (again.status, again.reason) == ("refused", "不能邀请自己")
    with db.write() as s:
        s.add(Customer(name="第三人", wechat_id="wx_third"))
    report(db, clock, a1, "friend_added", {"wxid": "wx_q", "nickname": "Q", "state": "fis-" + child.code})
    report(db, clock, a2, "friend_added", {"wxid": "wx_q", "nickname": "Q", "state": "fis-" + w["code"]})
    with db.read() as s:
        second = s.exec(select(Invitation).where(Invitation.ref == f"friend:{a2}:wx_q")).one()
    assert (second.status, second.reason) == ("refused", "重复邀请：该用户已被其他参与者邀请过")


def test_depth_cap_stops_the_tree(db, clock):
    w = make_world(db, clock, depth_cap=2)
    a1 = w["accounts"][0]
    report(db, clock, a1, "friend_added", {"wxid": "wx_l2", "state": "fis-" + w["code"]})
    with db.read() as s:
        level2 = s.exec(select(Participant).where(Participant.wxid == "wx_l2")).one()
    report(db, clock, a1, "friend_added", {"wxid": "wx_l3", "state": "fis-" + level2.code})
    with db.read() as s:
        row = s.exec(select(Invitation).where(Invitation.invitee_wxid == "wx_l3")).one()
        assert row.status == "pending" and "层级上限" in row.reason  # counts for the level-2 inviter …
        assert s.exec(select(Participant).where(Participant.wxid == "wx_l3")).first() is None  # … but no level 3


def test_hold_period_lapse_settlement_and_one_blind_box_through_the_executor(db, clock, runtime):
    w = make_world(db, clock, hold_hours=48)
    a1 = w["accounts"][0]
    for n in range(5):
        report(db, clock, a1, "friend_added", {"wxid": f"wx_f{n}", "nickname": f"好友{n}", "state": "fis-" + w["code"]})
    clock.advance(hours=5)
    report(db, clock, a1, "friend_deleted", {"wxid": "wx_f4"})
    assert settle_campaigns(runtime) == ""  # still in the hold period: nothing valid, nothing rewarded
    clock.advance(hours=44)
    summary = settle_campaigns(runtime)
    assert "有效 4" in summary and "达成阶梯 1" in summary
    assert settle_campaigns(runtime) == ""  # a second run rewards nothing twice
    with db.read() as s:
        seed = s.get(Participant, w["participant"])
        assert (seed.invited, seed.valid) == (5, 4)
        lapsed = s.exec(select(Invitation).where(Invitation.invitee_wxid == "wx_f4")).one()
        assert (lapsed.status, lapsed.reason) == ("lapsed", "考察期内删除了好友")
        reward = s.exec(select(StageReward).where(StageReward.participant_id == seed.id)).one()
        record = s.get(EventRecord, reward.event_record_id)
        assert record.event_code == "fission.stage_reached" and record.data["customer_id"] == w["seed"]
        task = s.exec(select(StrategyTask).where(StrategyTask.event_record_id == record.id)).one()
        assert task.processor_key == "rewards.draw_box" and task.status == "done", task.last_error
        draw = s.exec(select(BoxDraw).where(BoxDraw.customer_id == w["seed"])).one()
        assert draw.source == "fission" and "邀请好友得盲盒" in draw.reason
        assert sum(p.stock for p in s.exec(select(BoxPrize))) == 3
        if draw.kind == "points":
            assert points.balance(s, w["seed"]) == 50
