"""退群人数: people who left (or were removed from) one of our accounts' groups that day."""
from __future__ import annotations

from analytics.metrics.base import Metric
from analytics.metrics.group_members import member_facts
from devices.models import ChatGroupMember


class GroupQuits(Metric):
    key = "group_quits"
    label = "退群人数"
    definition = "当天退出或被移出我方微信号所在群的人数（去重）"

    def facts(self, session, start, end, ctx):
        return member_facts(session, ChatGroupMember.left_at, start, end, ctx)


METRIC = GroupQuits()
