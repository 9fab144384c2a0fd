"""Sales-work fixtures: a salesperson, a manager and customers written straight into the test
database, so each test sets up only what it checks."""
from __future__ import annotations

import pytest

from crm.customers.models import Customer
from crm.people.models import User
from crm.sales.notice_models import Notice
from crm.tags.models import CustomerTag, Tag, TagCategory


class People:
    def __init__(self, db):
        self.db = db

    def user(self, username: str, **extra) -> int:
        with self.db.write() as s:
            u = User(username=username, display_name=extra.pop("display_name", username), password_hash="x", **extra)
            s.add(u)
            s.flush()
            return u.id

    def customer(self, name: str, **extra) -> int:
        with self.db.write() as s:
            c = Customer(name=name, **extra)
            s.add(c)
            s.flush()
            return c.id

    def tag(self, name: str) -> int:
        with self.db.write() as s:
            cat = s.get(TagCategory, 1) or TagCategory(id=1, name="默认分类")
            s.add(cat)
            s.flush()
            t = Tag(category_id=cat.id, name=name)
            s.add(t)
            s.flush()
            return t.id

    def tag_customer(self, customer_id: int, tag_id: int) -> None:
        with self.db.write() as s:
            s.add(CustomerTag(customer_id=customer_id, tag_id=tag_id))


@pytest.fixture
def people(db):
    return People(db)


@pytest.fixture
def notice_table(db):
    """The notice table, until the central migration includes crm.sales.notice_models."""
    Notice.__table__.create(db.engine, checkfirst=True)
