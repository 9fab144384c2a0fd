"""A small customer world for the /api/v1/customers tests: two salespeople (甲 with a token, 乙),
their customers (乙's has a full mobile and e-mail), a group with 甲 as member, tags (manual,
auto, disabled), a custom field, and the admin token."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from crm.customers import fields
from crm.customers.models import Customer
from crm.groups.models import CustomerGroup, GroupLink, GroupMember
from crm.people.models import User
from crm.tags.models import Tag, TagCategory
from tests.web.api_helpers import Api, token_for


def snapshot(db, *customer_ids) -> list:
    """Everything a write could change about these customers: the row, its tags and its groups."""
    from crm.tags.models import CustomerTag

    with db.read() as s:
        rows = [tuple(r) for r in s.execute(select(Customer.__table__).where(Customer.id.in_(customer_ids)))]
        tags = sorted(tuple(r) for r in s.execute(select(CustomerTag.customer_id, CustomerTag.tag_id)
                                                  .where(CustomerTag.customer_id.in_(customer_ids))))
        links = sorted(tuple(r) for r in s.execute(select(GroupLink.customer_id, GroupLink.group_id, GroupLink.assignee_id)
                                                   .where(GroupLink.customer_id.in_(customer_ids))))
    return [sorted(rows, key=lambda r: r[0]), tags, links]


@pytest.fixture
def cw(app, app_db, api):
    sales_token = token_for(app_db, "sales_a", ["sales"])
    token_for(app_db, "sales_b", ["sales"])
    with app_db.write() as s:
        a = s.scalar(select(User.id).where(User.username == "sales_a"))
        b = s.scalar(select(User.id).where(User.username == "sales_b"))
        mine = Customer(name="甲的客户", city="上海", owner_id=a, tag_score=5)
        mine2 = Customer(name="甲的二号", city="杭州", owner_id=a)
        theirs = Customer(name="乙的客户", mobile="13800138000", email="zhangsan@example.com", city="上海", owner_id=b)
        group = CustomerGroup(name="电销一组")
        category = TagCategory(name="意向")
        s.add_all([mine, mine2, theirs, group, category])
        s.flush()
        s.add_all([GroupMember(group_id=group.id, user_id=a, role="member"),
                   GroupMember(group_id=group.id, user_id=b, role="member")])
        hot = Tag(category_id=category.id, name="高意向", score=10)
        auto = Tag(category_id=category.id, name="自动高分", kind="auto")
        off = Tag(category_id=category.id, name="停用标签", enabled=False)
        s.add_all([hot, auto, off])
        s.flush()
        fields.create_field(s, {"key": "level", "label": "客户等级", "type": "text"})
        fields.create_field(s, {"key": "aum", "label": "可投资资产", "type": "number"})
        ids = {"a": a, "b": b, "mine": mine.id, "mine2": mine2.id, "theirs": theirs.id, "group": group.id,
               "hot": hot.id, "auto": auto.id, "off": off.id}
    return ids, Api(app.test_client(), sales_token)
