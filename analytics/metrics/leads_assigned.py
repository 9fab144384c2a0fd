"""分配线索: leads assigned to a salesperson that day (automatically or by hand), per assignee."""
from __future__ import annotations

from sqlmodel import select

from analytics.metrics.base import Fact, Metric, between
from config.clock import as_utc
from crm.leads.models import Lead, LeadAssignment


class LeadsAssigned(Metric):
    key = "leads_assigned"
    label = "分配线索"
    unit = "条"
    definition = "当天分配给业务员的线索条数（同一线索当天重复分配给同一人只计一次）"

    def facts(self, session, start, end, ctx):
        stmt = (select(LeadAssignment.lead_id, LeadAssignment.to_user_id, LeadAssignment.scene_id,
                       LeadAssignment.created_at, Lead.channel_id, Lead.name)
                .join(Lead, Lead.id == LeadAssignment.lead_id)
                .where(between(LeadAssignment.created_at, start, end), LeadAssignment.to_user_id.is_not(None)))
        for lead_id, user_id, scene_id, when, channel_id, name in session.exec(stmt):
            yield Fact(as_utc(when), f"l:{lead_id}", user_id=user_id, scene_id=scene_id, channel_id=channel_id,
                       ref=("lead", lead_id), label=name or f"线索 #{lead_id}")


METRIC = LeadsAssigned()
