"""商品定向营销: a plan that promotes a product targets the product's 目标客户群 (narrowed by the
plan's tags when set), fills ${product_*} and appends the link when the template does not place
it; a product that cannot be sold stops the push with the reason."""
from __future__ import annotations

import pytest
from sqlmodel import select

from commerce.catalog.models import ProductSku, ProductSpu
from crm.customers.models import Customer
from crm.errors import CrmError
from crm.sales.marketing import create_plan
from crm.sales.models import MarketingRun
from crm.sales.templates import create_template
from tests.support.recommend_data import tagged
from engine.marketing import run_due_plans
from handlers.models import SmsMessage

TZ = "Asia/Shanghai"


def _shop(db):
    with db.write() as s:
        tags, _ = tagged(s, {"宝妈": 0, "VIP": 0}, [
            (Customer(name="张三", mobile="13800138000", city="上海"), ("宝妈",)),
            (Customer(name="李四", mobile="13900139000", city="北京"), ("宝妈",)),
            (Customer(name="王五", mobile="13700137000", city="上海"), ()),
            (Customer(name="赵六", mobile="13600136000", city="上海"), ("宝妈", "VIP"))])
        spus = []
        for code, stock in (("A", 5), ("B", 0)):
            spu = ProductSpu(code=code, name=f"有机奶粉{code}", shelf="on", link_url=f"https://shop.example.com/{code}",
                             audience={"tag_ids": [tags["宝妈"]], "conditions": [{"field": "city", "op": "eq", "value": "上海"}]})
            s.add(spu)
            s.flush()
            s.add(ProductSku(spu_id=spu.id, code=f"{code}-1", price_fen=12900, on_hand=stock))
            spus.append(spu.id)
        plain = create_template(s, {"code": "p1", "name": "商品推送", "channel": "sms",
                                    "body": "${name}您好，${product_name}限时${product_price}"})
        placed = create_template(s, {"code": "p2", "name": "带链接", "channel": "sms",
                                     "body": "${name}：${product_name} 点此购买 ${product_link}"})
        return {"mom": tags["宝妈"], "vip": tags["VIP"], "spus": spus, "plain": plain.id, "placed": placed.id}


def _plan(db, clock, name, **fields):
    with db.write() as s:
        return create_plan(s, {"name": name, "schedule": "once", "run_time": "10:30", **fields},
                           now=clock.now(), tz=TZ).id


def _sms(db):
    with db.read() as s:
        return [(m.mobile, m.content) for m in s.exec(select(SmsMessage).order_by(SmsMessage.id))]


def test_product_audience_content_and_refusal(runtime):
    db, clock = runtime.services.db, runtime.services.clock
    shop = _shop(db)
    _plan(db, clock, "奶粉推广", product_id=shop["spus"][0], template_id=shop["plain"])
    sold_out = _plan(db, clock, "缺货推广", product_id=shop["spus"][1], template_id=shop["plain"])
    clock.advance(minutes=31)
    summary = run_due_plans(runtime)
    assert "「奶粉推广」推送 2 人：成功 2" in summary and "「缺货推广」推送 2 人：成功 0，失败 2" in summary
    # a second plan an hour later (the SMS caps allow one message per number per minute)
    _plan(db, clock, "奶粉推广VIP", product_id=shop["spus"][0], template_id=shop["placed"], exclude_tags=[shop["vip"]],
          run_time="11:30")
    clock.advance(hours=1)
    assert "「奶粉推广VIP」推送 1 人：成功 1" in run_due_plans(runtime)
    sms = _sms(db)
    link = "https://shop.example.com/A"
    assert ("13800138000", f"张三您好，有机奶粉A限时¥129.00\n有机奶粉A ¥129.00 {link}") in sms
    assert ("13600136000", f"赵六您好，有机奶粉A限时¥129.00\n有机奶粉A ¥129.00 {link}") in sms
    assert ("13800138000", f"张三：有机奶粉A 点此购买 {link}") in sms  # placed by the template, not appended
    assert not any(m in ("13900139000", "13700137000") for m, _ in sms)  # 北京 / no tag: not targeted
    assert sum(1 for m, _ in sms if m == "13600136000") == 1  # VIP excluded from the second plan
    with db.read() as s:
        run = s.exec(select(MarketingRun).where(MarketingRun.plan_id == sold_out)).one()
    assert run.detail[0]["reason"] == "推广商品已删除、下架或无库存，本次未发送"


def test_a_plan_needs_tags_or_a_product(runtime):
    db = runtime.services.db
    shop = _shop(db)
    with pytest.raises(CrmError) as caught, db.write() as s:
        create_plan(s, {"name": "空", "template_id": shop["plain"], "run_time": "10:00"}, tz=TZ)
    assert "include_tags" in caught.value.errors
    with pytest.raises(CrmError) as caught, db.write() as s:
        create_plan(s, {"name": "坏", "template_id": shop["plain"], "run_time": "10:00", "product_id": "x"}, tz=TZ)
    assert "product_id" in caught.value.errors
