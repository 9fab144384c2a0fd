"""线索打标签: apply the scene's tag rules to the lead (and its customer)."""
from __future__ import annotations

from sqlmodel import Session

from crm.leads.models import Lead, LeadScene
from crm.leads.batch import tag_stage
from handlers.base import Outcome, ProcessorContext
from handlers.builtin.lead_step import LeadStep


class TagLeadProcessor(LeadStep):
    key = "lead.tag"
    name = "线索·自动打标签"
    description = "按获客场景的打标签规则（关键词、数值范围、来源等条件）为线索及其客户添加标签。"

    def apply(self, ctx: ProcessorContext, config: dict, session: Session, lead: Lead, scene: LeadScene) -> Outcome:
        return Outcome(**tag_stage(session, lead, scene, dict(ctx.data), ctx.services.now(),
                                   ctx.services.settings.timezone))
