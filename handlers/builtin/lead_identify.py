"""识别客户: match the lead to an existing customer (scene's dedup strategy: 手机号 / 邮箱 / 手机号或邮箱)
or create a prospect customer; an existing customer's empty fields are filled and its owner is told."""
from __future__ import annotations

from sqlmodel import Session

from crm.leads.batch import identify_stage
from crm.leads.models import Lead, LeadScene
from handlers.base import Outcome, ProcessorContext
from handlers.builtin.lead_step import LeadStep


class IdentifyLeadProcessor(LeadStep):
    key = "lead.identify"
    name = "线索·识别客户"
    description = "按获客场景的去重策略（手机号/邮箱）查找已有客户并关联；找不到则新建潜在客户。同一场景的重复线索会被标记。"

    def apply(self, ctx: ProcessorContext, config: dict, session: Session, lead: Lead, scene: LeadScene) -> Outcome:
        return Outcome(**identify_stage(session, lead, scene, ctx.services.now()))
