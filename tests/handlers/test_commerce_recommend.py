"""推荐商品 through the engine: a strategy on an event sends the customer's top products as a list
plus link / mini-program cards through the device layer (queued commands the phone receives), or
as one SMS in the 短信发件箱; dry runs send nothing; a replayed step sends nothing twice."""
from __future__ import annotations

import pytest
from sqlmodel import select

from commerce.catalog.models import ProductSku, ProductSpu
from commerce.recommend import refresh
from devices.models import DeviceCommand, Friend
from handlers.errors import PermanentError
from handlers.models import SmsMessage
from crm.tags.models import CustomerTag
from tests.devices.budget.engine_kit import DeviceKit
from tests.engine.conftest import engine_services, kit, runtime  # noqa: F401 - fixtures
from tests.handlers.crm_kit import MOBILE, customer, rows, run_direct, step, tag, tasks


def _shop(svc, tag_id):
    with svc.db.write() as s:
        for code, name, stock, mini in (("A", "有机奶粉", 5, {}), ("B", "婴儿推车", 0, {}),
                                        ("C", "早教课", 3, {"appid": "wx123", "path": "pages/c", "title": "早教课"})):
            spu = ProductSpu(code=code, name=name, shelf="on", audience={"tag_ids": [tag_id]},
                             link_url=f"https://shop.example.com/{code}", miniprogram=mini)
            s.add(spu)
            s.flush()
            s.add(ProductSku(spu_id=spu.id, code=f"{code}-1", price_fen=12900 if code == "A" else 9900, on_hand=stock))
        refresh.rebuild(s, svc.now())


@pytest.fixture
def shopper(kit):
    mom = tag(kit.svc, "宝妈", score=5)
    cid = customer(kit.svc, "张三")
    with kit.svc.db.write() as s:
        s.add(CustomerTag(customer_id=cid, tag_id=mom))
    _shop(kit.svc, mom)
    return cid


def test_cards_through_a_device_account(kit, shopper):
    dk = DeviceKit(kit)
    with kit.svc.db.write() as s:
        s.add(Friend(account_id=dk.account, wxid="wxid_mom", nickname="张三", customer_id=shopper))
    task = dk.run("recommend_products", {"limit": 3, "card": "miniprogram", "intro": "${nickname}，为您推荐："},
                  {"customer_id": shopper, "from_wxid": "", "nickname": "张三"})
    assert task.status == "done", task.last_error
    commands = dk.commands()
    assert [c.kind for c in commands] == ["send_text", "send_link", "send_miniprogram"]
    assert all(c.payload["to"] == "wxid_mom" for c in commands)  # the customer's friend on that account
    text = commands[0].payload["text"]
    assert text.startswith("张三，为您推荐：") and "有机奶粉 ¥129.00" in text and "早教课 ¥99.00" in text
    assert "婴儿推车" not in text  # out of stock
    assert commands[1].payload["url"] == "https://shop.example.com/A" and commands[1].payload["title"] == "有机奶粉"
    assert commands[2].payload["appid"] == "wx123" and commands[2].payload["page"] == "pages/c"
    assert [c.idempotency_key for c in commands] == [task.idempotency_key + s for s in ("", ":p1", ":p2")]
    assert task.note.startswith("推荐 2 个商品「有机奶粉」、「早教课」：发送文字：已排队")
    assert task.rendered["products"][0]["reasons"] == ["命中标签「宝妈」"]


def test_sms_through_the_outbox_once(kit, shopper):
    kit.strategy("tag_customer", [], [step("recommend_products", channel="sms", limit=2)])
    kit.post({"event": "tag_customer", "data": {"customerId": str(shopper), "tagName": "x"}})
    kit.rt.tick()
    [task] = tasks(kit.svc)
    assert task.status == "done", task.last_error
    [sms] = rows(kit.svc, SmsMessage)
    assert sms.mobile == MOBILE and sms.content.startswith("为您精选以下商品：\n1. ")
    assert "https://shop.example.com/A" in sms.content and "婴儿推车" not in sms.content
    assert MOBILE not in str(task.rendered)
    again = run_direct(kit, "recommend_products", {"customerId": shopper}, {"channel": "sms", "limit": 2},
                       task.idempotency_key)
    assert "未重复发送" in again.note and len(rows(kit.svc, SmsMessage)) == 1


def test_dry_run_and_refusals(kit, shopper):
    preview = run_direct(kit, "recommend_products", {"customerId": shopper}, {"channel": "sms"}, dry_run=True)
    assert [p["name"] for p in preview.request["products"]] and rows(kit.svc, SmsMessage) == []
    rendered = kit.rt.registry.get("recommend_products").render(_ctx(kit, {"customerId": shopper}), {"channel": "sms"})
    assert rendered["messages"][0]["content"].startswith("为您精选以下商品：")
    assert rendered["messages"][0]["mobile"] == "138****8000"
    with pytest.raises(PermanentError, match="没有可发送的微信好友"):
        run_direct(kit, "recommend_products", {"customerId": shopper}, {"channel": "device", "account": "x"})
    nobody = customer(kit.svc, "李四", "13900000001")
    with pytest.raises(PermanentError, match="暂无可推荐的商品"):
        run_direct(kit, "recommend_products", {"customerId": nobody}, {"channel": "sms"})
    problems = kit.rt.registry.get("recommend_products").validate_config({"limit": 0, "channel": "fax", "card": "x"})
    assert len(problems) == 3
    with kit.svc.db.read() as s:
        assert s.exec(select(DeviceCommand)).first() is None


def _ctx(kit, data):
    from handlers.base import ProcessorContext

    return ProcessorContext(event_code="test", data=data, event_record_id=1, strategy_id=1, task_id=1,
                            idempotency_key="1:1:0", attempt=1, services=kit.svc, processors=kit.rt.registry)
