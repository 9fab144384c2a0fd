"""Held leads: a lead arriving outside working hours waits, then is assigned by the cron job once
work starts; nothing is logged while it keeps waiting."""
from __future__ import annotations

from datetime import datetime

from sqlmodel import select

from config.clock import UTC
from crm.leads.intake import Submission, submit
from crm.leads.models import Lead, LeadLog
from crm.leads.schedule import release_held
from crm.people import service as people
from engine.lead_scenes import save_scene
from engine.runtime import Runtime


def test_lead_held_outside_hours_is_assigned_when_work_starts(services, clock):
    people.ensure_builtin_roles(services.db)
    sales = people.create_user(services.db, "sales1", "Passw0rd123", display_name="销售一").id
    rt = Runtime(services)
    with services.db.write() as s:
        scene, _ = save_scene(s, {"name": "表单", "scene_type": "WEB_FORM", "assignment_rules": {
            "rules": [{"name": "全部", "rows": [], "method": "round_robin", "user_ids": [sales]}],
            "working_hours": {"enabled": True, "weekdays": [1, 2, 3, 4, 5], "start": "09:00", "end": "18:00"},
            "outside_hours": "hold"}}, registry=rt.registry, box=services.secret_box)
    rt.invalidate()
    clock.set(datetime(2026, 11, 21, 4, 0, tzinfo=UTC))  # Saturday 12:00 in Shanghai
    [acc] = submit(services.db, scene.id, [Submission(raw={"submission_data": {"name": "周末客户", "phone": "13800138000"}})],
                   now=services.now())
    rt.tick()
    with services.db.read() as s:
        assert s.get(Lead, acc.lead_id).assignee_user_id is None
    assert release_held(services) == 0  # still the weekend: nothing assigned, nothing logged
    clock.set(datetime(2026, 11, 23, 1, 5, tzinfo=UTC))  # Monday 09:05
    assert release_held(services) == 1
    with services.db.read() as s:
        lead = s.get(Lead, acc.lead_id)
        stages = [r.stage for r in s.exec(select(LeadLog).where(LeadLog.lead_id == lead.id).order_by(LeadLog.id))]
    assert lead.assignee_user_id == sales and lead.status == "ASSIGNED"
    assert stages.count("held") == 1 and stages[-1] == "assigned"
    rt.stop()
