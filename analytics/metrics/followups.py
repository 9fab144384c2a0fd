"""跟进次数: 跟进记录 written that day, per salesperson."""
from __future__ import annotations

from sqlmodel import select

from analytics.metrics.base import Fact, Metric, between
from config.clock import as_utc
from crm.sales.models import FollowUp


class Followups(Metric):
    key = "followups"
    label = "跟进次数"
    unit = "次"
    distinct = False
    definition = "当天记录的跟进次数（每条跟进记录计一次）"

    def facts(self, session, start, end, ctx):
        stmt = select(FollowUp.id, FollowUp.customer_id, FollowUp.user_id, FollowUp.followed_at).where(
            between(FollowUp.followed_at, start, end))
        for fid, customer_id, user_id, when in session.exec(stmt):
            yield Fact(as_utc(when), None, user_id=user_id, ref=("customer", customer_id), label=f"跟进 #{fid}")


METRIC = Followups()
