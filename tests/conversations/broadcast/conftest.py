"""A small world for 群发 tests: two staff (张 owns account A, 李 owns account B), friends on each,
some linked to customers tagged 意向客户, some carrying the WeChat label 宝妈."""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from crm.customers.models import Customer
from crm.people.models import User
from crm.tags.models import CustomerTag, Tag, TagCategory
from devices.models import Friend, WechatAccount


@dataclass
class World:
    zhang: int
    li: int
    account_a: int
    account_b: int
    tag_id: int
    friends_a: list
    friends_b: list


@pytest.fixture
def world(db):
    with db.write() as s:
        zhang, li = User(username="zhang", display_name="张销售", password_hash="x"), User(username="li", password_hash="x")
        s.add(zhang)
        s.add(li)
        s.flush()
        a = WechatAccount(wxid="wx_staff_a", nickname="客服A", owner_user_id=zhang.id)
        b = WechatAccount(wxid="wx_staff_b", nickname="客服B", owner_user_id=li.id)
        s.add(a)
        s.add(b)
        cat = TagCategory(name="意向")
        s.add(cat)
        s.flush()
        tag = Tag(category_id=cat.id, name="意向客户")
        s.add(tag)
        s.flush()
        ids = {a.id: [], b.id: []}
        for acc in (a, b):
            for i in range(6):
                customer = Customer(name=f"客户{acc.id}-{i}", owner_id=acc.owner_user_id)
                s.add(customer)
                s.flush()
                if i < 4:
                    s.add(CustomerTag(customer_id=customer.id, tag_id=tag.id))
                f = Friend(account_id=acc.id, wxid=f"wx_{acc.id}_{i}", nickname=f"好友{i}", customer_id=customer.id,
                           tags=["宝妈"] if i == 5 else [])
                s.add(f)
                s.flush()
                ids[acc.id].append(f.id)
        return World(zhang.id, li.id, a.id, b.id, tag.id, ids[a.id], ids[b.id])
