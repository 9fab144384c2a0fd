"""新增客户: customer records created that day, credited to their owner (跟进人)."""
from __future__ import annotations

from sqlmodel import select

from analytics.metrics.base import Fact, Metric, between
from config.clock import as_utc
from crm.customers.models import Customer


class NewCustomers(Metric):
    key = "new_customers"
    label = "新增客户"
    definition = "当天新建的客户档案数，计入客户的跟进人"

    def facts(self, session, start, end, ctx):
        stmt = select(Customer.id, Customer.name, Customer.owner_id, Customer.created_at).where(
            between(Customer.created_at, start, end))
        for cid, name, owner_id, when in session.exec(stmt):
            yield Fact(as_utc(when), f"c:{cid}", user_id=owner_id, ref=("customer", cid), label=name or f"客户 #{cid}")


METRIC = NewCustomers()
