"""A fission world for service tests: two pool accounts, a blind-box pool, a campaign 「邀请好友得盲盒」
(stage at 3 → 抽取盲盒, stage at 10 → 发放积分) and a seed participant; reports applied the way
the gateway applies them (record_report, then the fission sinks, in one transaction)."""
from __future__ import annotations

from datetime import timedelta

from community.fission import campaigns, participants
from community.fission.reports import SINKS
from community.rewards import boxes
from crm.customers.models import Customer
from devices.models import WechatAccount
from devices.reports import record_report


def make_world(db, clock, *, hold_hours=48, depth_cap=3, kind="invite", stock=2):
    now = clock.now()
    with db.write() as s:
        a1, a2 = WechatAccount(wxid="wx_pool_1", nickname="客服一"), WechatAccount(wxid="wx_pool_2", nickname="客服二")
        s.add_all([a1, a2])
        pool = boxes.create_pool(s, "新人盲盒")
        boxes.add_prize(s, pool.id, {"name": "保温杯", "kind": "physical", "weight": "1", "stock": str(stock)})
        boxes.add_prize(s, pool.id, {"name": "50 积分", "kind": "points", "points": "50", "weight": "1", "stock": str(stock)})
        s.flush()
        values = campaigns.clean(s, {
            "name": "邀请好友得盲盒", "kind": kind, "hold_hours": str(hold_hours), "depth_cap": str(depth_cap),
            "account_ids": [str(a1.id), str(a2.id)],
            "stages": [{"threshold": 3, "name": "邀请 3 人抽盲盒", "processor": "rewards.draw_box", "config": {"pool_id": pool.id}},
                       {"threshold": 10, "name": "邀请 10 人得积分", "processor": "rewards.grant_points",
                        "config": {"points": 200}}]},
            now - timedelta(hours=1), now + timedelta(days=7))
        campaign = campaigns.create(s, values, None, now - timedelta(hours=2))
        campaigns.set_status(s, campaign.id, "active", now)
        seed = Customer(name="种子用户小红", wechat_id="wx_seed", created_at=now - timedelta(days=30))
        s.add(seed)
        s.flush()
        participant, _ = participants.join(s, campaign, seed, "wx_seed", now=now)
        return {"campaign": campaign.id, "pool": pool.id, "accounts": (a1.id, a2.id), "seed": seed.id,
                "participant": participant.id, "code": participant.code}


def report(db, clock, account_id: int, kind: str, data: dict):
    with db.write() as s:
        account = s.get(WechatAccount, account_id)
        record_report(s, 0, account, kind, data, clock.now())
        sink = SINKS.get(kind)
        if sink:
            sink(s, account, data, clock.now(), "r")
