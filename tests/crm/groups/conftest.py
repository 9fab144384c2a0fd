"""Fixtures for groups/allocation tests: a few users, customers and groups on the test database."""
from __future__ import annotations

import pytest
from sqlalchemy import insert, select

from crm.customers.models import Customer
from crm.groups.models import CustomerGroup, GroupMember
from crm.people.models import User


class World:
    """Builds rows directly (fast, no business rules in the way) and reads them back."""

    def __init__(self, services):
        self.services = services
        self.db = services.db

    def user(self, username: str, display_name: str = "") -> int:
        with self.db.write() as s:
            user = User(username=username, display_name=display_name or username, password_hash="x")
            s.add(user)
            s.flush()
            return user.id

    def customers(self, count: int, **fields) -> list[int]:
        with self.db.write() as s:
            start = (s.scalar(select(Customer.id).order_by(Customer.id.desc()).limit(1)) or 0) + 1
            rows = [dict(id=start + i, name=f"客户{start + i}", status="active", tag_score=0, follow_count=0,
                         attrs={}, created_at=self.services.now(), updated_at=self.services.now())
                    | {k: (v(i) if callable(v) else v) for k, v in fields.items()} for i in range(count)]
            s.execute(insert(Customer), rows)
            return [r["id"] for r in rows]

    def group(self, name: str, managers=(), sales=(), **settings) -> int:
        with self.db.write() as s:
            group = CustomerGroup(name=name, **settings)
            s.add(group)
            s.flush()
            for uid in managers:
                s.add(GroupMember(group_id=group.id, user_id=uid, role="manager"))
            for uid in sales:
                s.add(GroupMember(group_id=group.id, user_id=uid, role="sales"))
            return group.id

    def write(self, fn):
        with self.db.write() as s:
            return fn(s)

    def read(self, fn):
        with self.db.read() as s:
            return fn(s)

    def rows(self, stmt):
        with self.db.read() as s:
            return s.execute(stmt).all()


@pytest.fixture
def world(services):
    return World(services)
