"""Helpers for the tag tests: a custom number field 可投资资产, customers, staff users."""
from __future__ import annotations

import pytest

from crm.customers.models import Customer, CustomField
from crm.people.models import User
from crm.tags import categories, service
from crm.tags.models import Tag


@pytest.fixture
def assets_field(services):
    with services.db.write() as s:
        s.add(CustomField(key="investable_assets", label="可投资资产", type="number"))
    return "investable_assets"


@pytest.fixture
def make_customers(services):
    def make(*rows) -> list[int]:
        with services.db.write() as s:
            objs = []
            for i, row in enumerate(rows):
                row = dict(row)
                attrs = row.pop("attrs", {})
                objs.append(Customer(name=row.pop("name", f"客户{i}"), attrs=attrs, **row))
            s.add_all(objs)
            s.flush()
            return [c.id for c in objs]
    return make


@pytest.fixture
def users(services):
    with services.db.write() as s:
        a = User(username="xiaodan", display_name="业务员小丹", password_hash="x")
        b = User(username="laowang", display_name="老王", password_hash="x")
        s.add_all([a, b])
        s.flush()
        return a.id, b.id


@pytest.fixture
def category(services):
    with services.db.write() as s:
        root = categories.create_category(s, {"name": "客户标签"})
        return categories.create_category(s, {"name": "可投资资产", "parent_id": root.id}).id


@pytest.fixture
def make_tag(services, category):
    def make(name, kind="auto", rule=None, score=0, validity_days=None, owner=None, enabled=True) -> int:
        with services.db.write() as s:
            tag = service.create_tag(s, {"name": name, "kind": kind, "category_id": category, "score": score,
                                         "validity_days": validity_days, "enabled": enabled}, owner)
            if rule is not None:
                service.save_rule(s, tag.id, rule, owner)
            return tag.id
    return make


def links(services, tag_id) -> set[int]:
    from sqlalchemy import select
    from crm.tags.models import CustomerTag

    with services.db.read() as s:
        return set(s.scalars(select(CustomerTag.customer_id).where(CustomerTag.tag_id == tag_id)))


def scores_of(services, ids) -> list[int]:
    with services.db.read() as s:
        return [s.get(Customer, i).tag_score for i in ids]


def tag(services, tag_id) -> Tag:
    with services.db.read() as s:
        return s.get(Tag, tag_id)
