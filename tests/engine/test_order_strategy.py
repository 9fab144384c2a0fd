"""order.paid drives a strategy: a thank-you SMS at once and a 复购 reminder 30 days later."""
from __future__ import annotations

from sqlmodel import select

from commerce.orders import flow, service
from crm.scope import SYSTEM
from handlers.models import SmsMessage
from tests.commerce.order_world import make_sku
from tests.engine.conftest import engine_services, kit, runtime  # noqa: F401 - fixtures
from tests.handlers.crm_kit import MOBILE, customer, template


def _sms(svc) -> list[str]:
    with svc.db.read() as s:
        return [m.content for m in s.exec(select(SmsMessage).order_by(SmsMessage.id))]


def test_paid_order_thanks_now_and_reminds_to_rebuy_in_30_days(kit, clock):
    svc = kit.svc
    cid = customer(svc, "张三")
    template(svc, "order_thanks", "${name}您好，感谢您的购买！")
    template(svc, "rebuy", "${name}您好，您上次购买的商品快用完了吧？复购享 9 折。")
    thanks = {"processor": "crm.send_template", "config": {"template": "order_thanks"}, "timing": {"mode": "immediate"}}
    rebuy = {"processor": "crm.send_template", "config": {"template": "rebuy"},
             "timing": {"mode": "delay", "hours": 24 * 30}}
    kit.strategy("order.paid", [], [thanks, rebuy], name="成交感谢与复购提醒")
    with svc.db.write() as s:
        sku = make_sku(s, "TEA-1", 990, 5)
        order_id = service.create_order(s, {"customer_id": cid, "lines": [{"sku_id": sku, "quantity": 1}]}, SYSTEM,
                                        now=svc.now()).order.id
    kit.rt.tick()
    assert _sms(svc) == []  # order.created matches nothing
    with svc.db.write() as s:
        flow.transition(s, order_id, "pay", SYSTEM, now=svc.now())
    kit.rt.tick()
    assert _sms(svc) == ["张三您好，感谢您的购买！"]
    clock.advance(days=29, hours=23, minutes=59)
    kit.rt.tick()
    assert len(_sms(svc)) == 1
    clock.advance(minutes=2)
    kit.rt.tick()
    assert _sms(svc) == ["张三您好，感谢您的购买！", "张三您好，您上次购买的商品快用完了吧？复购享 9 折。"]
    with svc.db.read() as s:
        assert {m.mobile for m in s.exec(select(SmsMessage))} == {MOBILE}
