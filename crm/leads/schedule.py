"""Timed work of 场景获客, run by the engine's cron on the scheduler leader:

- 分配暂缓线索 (every minute): leads held because they arrived outside working hours (or when
  everyone was capped) are assigned as soon as the scene's rules can place them — held leads do
  not wait for someone to notice them.
- 获客告警 (every 5 minutes): crm/leads/alerts.py.
- 清理 webhook 签名记录 (hourly): signatures older than a day are only kept to reject replays
  inside the timestamp window, so older ones are dropped.

`CRON_SPECS` lists (key, name, cron fields, fn(services) -> summary) for engine.cron.
"""
from __future__ import annotations

from datetime import timedelta

from sqlmodel import col, select

from config.clock import as_utc
from crm.leads.alerts import check_alerts
from crm.leads.assignment import apply_assignment, decide
from crm.leads.intake import event_data
from crm.leads.models import Lead, LeadLog, LeadScene
from crm.leads.webhook_guard import purge_nonces

BATCH = 200
HELD_DAYS = 7  # older held leads are the operator's to assign by hand (公海 of leads)


def release_held(services) -> int:
    """Assigns held leads the scene's rules can now place; returns how many were assigned."""
    now, tz, assigned = as_utc(services.now()), services.settings.timezone, 0
    with services.db.read() as s:
        ids = list(s.exec(select(Lead.id).where(
            Lead.assignee_user_id.is_(None), Lead.assignee_group_id.is_(None),
            col(Lead.status).in_(("NEW", "QUALIFIED")), Lead.created_at >= now - timedelta(days=HELD_DAYS),
            Lead.id.in_(select(LeadLog.lead_id).where(LeadLog.stage == "held"))).order_by(Lead.id).limit(BATCH)))
    for lead_id in ids:
        with services.db.write() as s:
            lead = s.get(Lead, lead_id)
            if lead.assignee_user_id is not None:
                continue
            scene = s.get(LeadScene, lead.scene_id)
            facts = event_data(lead.id, scene, dict(lead.lead_data or {}), lead.channel_id, lead.plan_id, "held", "system")
            decision = decide(s, lead, scene, facts, now, tz)
            if decision.held:
                continue  # still outside hours or nobody free: try again next round, no log noise
            apply_assignment(s, lead, decision, actor="system:held", now=now)
            assigned += 1
    return assigned


def purge_old_signatures(services) -> int:
    with services.db.write() as s:
        return purge_nonces(s, as_utc(services.now()) - timedelta(days=1))


CRON_SPECS = (
    ("leads.release_held", "分配暂缓的线索", {"minute": "*"}, release_held),
    ("leads.purge_signatures", "清理 webhook 签名记录", {"minute": "7"}, purge_old_signatures),
    ("leads.alerts", "获客告警（死信堆积、回调被拒、拉取失败）", {"minute": "*/5"}, check_alerts),
)
