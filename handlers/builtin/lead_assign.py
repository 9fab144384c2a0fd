"""线索分配: give the lead to a salesperson by the scene's assignment rules (轮询, 随机, 权重, 按负载,
按地区, 按标签技能, 按线索价值; caps, working hours, backups). A lead already assigned keeps its
assignee unless the step is set to reassign."""
from __future__ import annotations

from sqlmodel import Session

from crm.leads.batch import assign_stage
from crm.leads.models import Lead, LeadScene
from handlers.base import ConfigField, Outcome, ProcessorContext
from handlers.builtin.lead_step import LeadStep


class AssignLeadProcessor(LeadStep):
    key = "lead.assign"
    name = "线索·分配"
    description = "按获客场景的分配规则把线索分配给业务员或团队，记录分配日志并通知被分配人。"
    config_fields = (ConfigField("reassign", "已分配的线索重新分配", kind="boolean", default=False, templated=False),)

    def apply(self, ctx: ProcessorContext, config: dict, session: Session, lead: Lead, scene: LeadScene) -> Outcome:
        return Outcome(**assign_stage(session, lead, scene, dict(ctx.data), ctx.services.now(),
                                      ctx.services.settings.timezone, f"strategy:{ctx.strategy_id}",
                                      reassign=bool(config.get("reassign"))))
