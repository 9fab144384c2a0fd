"""The 权益 steps through the engine (any strategy can give points, a coupon or a blind box, once
per step), and 群打卡 points landing in the one ledger under the shared check-in key."""
from __future__ import annotations

from sqlmodel import select

from community import points
from community.ledger_models import PointsEntry
from community.rewards import boxes, coupons
from community.rewards.models import BoxDraw, Coupon
from crm.customers.models import Customer
from devices.models import CheckIn
from engine.models import StrategyTask
from events.definitions import create_definition
from tests.engine.conftest import engine_services, kit, row, runtime  # noqa: F401 - the engine fixtures
from tests.engine.test_workbench_kit import Bench
from tests.handlers.crm_kit import step

EVENT = "member_upgraded"


def test_a_strategy_gives_points_a_coupon_and_a_blind_box_once_each(kit):
    svc = kit.svc
    with svc.db.write() as s:
        create_definition(s, {"name": "会员升级", "code": EVENT, "fields": [
            {"name": "customerId", "type": "text", "label": "客户ID", "required": True}]})
        customer = Customer(name="升级会员")
        s.add(customer)
        batch = coupons.create_batch(s, {"name": "升级礼券", "kind": "cash", "value": "1000"}, valid_from=None, valid_until=None)
        pool = boxes.create_pool(s, "升级盲盒")
        boxes.add_prize(s, pool.id, {"name": "耳机", "kind": "physical", "weight": "1", "stock": "1"})
        s.flush()
        cid, bid, pid = customer.id, batch.id, pool.id
    kit.rt.invalidate()
    kit.strategy(EVENT, [row("customerId", "ne", "")], [
        step("rewards.grant_points", points="30", reason="会员升级奖励"), step("rewards.issue_coupon", batch_id=str(bid)),
        step("rewards.draw_box", pool_id=str(pid))])
    kit.post({"event": EVENT, "id": "u1", "data": {"customerId": str(cid)}})
    kit.rt.tick()
    kit.post({"event": EVENT, "id": "u1", "data": {"customerId": str(cid)}})  # the same event again: deduped
    kit.rt.tick()
    with svc.db.read() as s:
        notes = [t.note for t in s.exec(select(StrategyTask).order_by(StrategyTask.id))]
        assert points.balance(s, cid) == 30
        entry = s.exec(select(PointsEntry).where(PointsEntry.customer_id == cid)).one()
        assert (entry.reason, entry.source) == ("会员升级奖励", "processor")
        assert len(s.exec(select(Coupon).where(Coupon.customer_id == cid)).all()) == 1
        assert s.exec(select(BoxDraw).where(BoxDraw.customer_id == cid)).one().prize_name == "耳机"
    assert any("发放 30 积分" in n for n in notes) and any("抽中「耳机」" in n for n in notes)


def test_checkin_points_land_in_the_ledger_with_the_shared_key(kit):
    bench = Bench(kit)
    a = bench.account("wx_owner")
    g = bench.group(a, "run@chatroom", "跑步群")
    bench.save("checkin", {"name": "早起打卡", "group_ids": [g], "keyword": "打卡", "points": 3})
    for who in ["wx_a", "wx_a", "wx_b"]:
        bench.report("device.message", {"account_id": a, "account_wxid": "wx_owner", "from_wxid": who, "nickname": who,
                                        "chatroom_id": "run@chatroom", "is_group": True, "text": "打卡", "msg_type": "text"})
        kit.rt.tick()
    with kit.svc.db.read() as s:
        checkins = {c.member_wxid: c for c in s.exec(select(CheckIn))}
        a_customer = s.exec(select(Customer).where(Customer.wechat_id == "wx_a")).one()
        entries = s.exec(select(PointsEntry).where(PointsEntry.source == "checkin")).all()
        assert points.balance(s, a_customer.id) == 3  # the repeat the same day earns nothing
    assert sorted(e.source_ref for e in entries) == sorted(f"checkin:{c.id}:{w}" for w, c in checkins.items())
    assert all(e.reason == "群打卡：跑步群" for e in entries)
