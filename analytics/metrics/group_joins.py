"""入群人数: people who joined one of our accounts' groups that day."""
from __future__ import annotations

from analytics.metrics.base import Metric
from analytics.metrics.group_members import member_facts
from devices.models import ChatGroupMember


class GroupJoins(Metric):
    key = "group_joins"
    label = "入群人数"
    definition = "当天加入我方微信号所在群的人数（去重）"

    def facts(self, session, start, end, ctx):
        return member_facts(session, ChatGroupMember.joined_at, start, end, ctx, joins=True)


METRIC = GroupJoins()
