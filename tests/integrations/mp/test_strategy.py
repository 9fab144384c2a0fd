"""The events a 公众号 push puts into the ledger drive strategies like any other: a bound fan asks
about the price → the strategy on 公众号收到消息 (内容包含「价格」) tags the customer."""
from __future__ import annotations

from sqlmodel import select

from crm.customers.models import Customer
from crm.tags import categories, service as tags
from crm.tags.models import CustomerTag
from engine.authoring import create_strategy
from engine.lifecycle import set_enabled
from events.definitions import import_builtin
from events.models import EventDefinition
from integrations.mp.models import MpFan
from integrations.mp.mp_events import EVENTS
from rules.groups import create_group


def test_a_strategy_on_mp_message_tags_the_bound_customer(mp_app, pusher, svc):
    runtime = mp_app.extensions["ckb"]
    push, account = pusher("safe")
    with svc.db.write() as s:
        import_builtin(s, [EVENTS["mp.message"]["key"]], extra=[EVENTS["mp.message"]])
        definition = s.exec(select(EventDefinition).where(EventDefinition.code == "mp.message")).one()
        tag = tags.create_tag(s, {"name": "高意向", "kind": "manual",
                                  "category_id": categories.create_category(s, {"name": "意向"}).id}, None)
        customer = Customer(name="钱七")
        s.add(customer)
        s.flush()
        s.add(MpFan(account_id=account.id, openid="o_qian", customer_id=customer.id, bound_by="manual"))
        strategy = create_strategy(s, {"name": "问价打标", "group_id": create_group(s, "公众号").id, "event_id": definition.id,
                                       "conditions": [{"lparen": 0, "field": "text", "op": "contains", "value": "价格",
                                                       "rparen": 0, "join": "and"}],
                                       "steps": [{"processor": "crm.add_tag", "config": {"tags": str(tag.id)}}]},
                                   runtime.registry, "UTC", "test")
        set_enabled(s, [strategy.id], True)
        ids = (customer.id, tag.id)
    client = mp_app.test_client()
    assert push.text("o_qian", "你好", msg_id=1).post(client).status_code == 200
    assert push.text("o_qian", "价格多少？", msg_id=2).post(client).status_code == 200
    runtime.invalidate()
    assert runtime.tick()["events"] == 2
    with svc.db.read() as s:
        assert s.exec(select(CustomerTag.customer_id, CustomerTag.tag_id)).all() == [ids]
