"""Lead service: filters and sorting, the status flow, corrections through the scene's cleaning,
notes, related customer, masking."""
from __future__ import annotations

from datetime import timedelta

import pytest

from crm.customers.service import create_customer
from crm.leads.errors import LeadNotFound, LeadsError
from crm.leads.intake import Submission, submit
from crm.leads.models import Lead, LeadLog, LeadTag
from crm.leads.service import add_note, get_lead, lead_dict, list_leads, update_lead
from crm.tags.categories import create_category
from crm.tags.service import create_tag
from crm.scope import SYSTEM
from handlers.registry import default_registry
from engine.lead_scenes import save_scene


@pytest.fixture
def scene_id(services):
    with services.db.write() as s:
        scene, _ = save_scene(s, {"name": "表单", "scene_type": "WEB_FORM"}, registry=default_registry(services),
                              box=services.secret_box)
        return scene.id


def _submit(services, scene_id, *people):
    results = submit(services.db, scene_id, [Submission(raw={"submission_data": p}) for p in people], now=services.now())
    return [r.lead_id for r in results]


def test_filters_paging_sorting_and_tags(services, scene_id):
    ids = _submit(services, scene_id, *({"name": f"客户{i}", "phone": f"1380013800{i}", "value": i * 10} for i in range(5)))
    with services.db.write() as s:
        cat = create_category(s, {"name": "类"})
        tag = create_tag(s, {"name": "意向", "category_id": cat.id, "kind": "manual"}, None)
        s.add(LeadTag(lead_id=ids[1], tag_id=tag.id))
        s.get(Lead, ids[2]).status = "QUALIFIED"
    with services.db.read() as s:
        rows, total = list_leads(s, size=2, page=2, sort_by="value", sort_order="asc")
        assert total == 5 and [r.id for r in rows] == ids[2:4]
        assert [r.id for r in list_leads(s, tag_ids=str(tag.id))[0]] == [ids[1]]
        assert [r.id for r in list_leads(s, status="QUALIFIED")[0]] == [ids[2]]
        assert [r.id for r in list_leads(s, q="13800138004")[0]] == [ids[4]]
        assert list_leads(s, start=services.now() + timedelta(days=1))[1] == 0
        for bad in ({"sort_by": "mobile"}, {"sort_order": "up"}, {"status": "WON"}, {"tag_ids": "a,b"}):
            with pytest.raises(LeadsError):
                list_leads(s, **bad)


def test_status_flow_and_corrections_are_logged(services, scene_id):
    [lead_id] = _submit(services, scene_id, {"name": "孙八", "phone": "13900139000"})
    with services.db.write() as s:
        with pytest.raises(LeadsError, match="不能从「新线索」改为「已转化」"):
            update_lead(s, lead_id, {"status": "CONVERTED"}, "admin", viewer=SYSTEM)
    with services.db.write() as s:
        with pytest.raises(LeadsError, match="请先分配"):
            update_lead(s, lead_id, {"status": "ASSIGNED"}, "admin", viewer=SYSTEM)
    with services.db.write() as s:
        update_lead(s, lead_id, {"status": "QUALIFIED", "lead_data": {"phone": "", "mobile": "+86 137 0013 7000"}}, "admin", viewer=SYSTEM)
        add_note(s, lead_id, "客户说下周再联系", "admin", viewer=SYSTEM)
    with services.db.write() as s:
        with pytest.raises(LeadsError) as err:
            update_lead(s, lead_id, {"lead_data": {"email": "not-an-email"}}, "admin", viewer=SYSTEM)
        assert "lead_data.email" in err.value.errors
        with pytest.raises(LeadsError, match="不支持修改"):
            update_lead(s, lead_id, {"owner": 1}, "admin", viewer=SYSTEM)
        with pytest.raises(LeadNotFound):
            get_lead(s, 999, SYSTEM)
    with services.db.read() as s:
        lead = s.get(Lead, lead_id)
        assert lead.status == "QUALIFIED" and lead.mobile == "13700137000" and "下周" in lead.notes
        stages = [r.stage for r in s.exec(LeadLog.__table__.select().where(LeadLog.lead_id == lead_id))]
        assert stages.count("status") == 1 and "note" in stages and "updated" in stages


def test_related_customer_and_masked_view(services, scene_id):
    [lead_id] = _submit(services, scene_id, {"name": "周九", "phone": "13600136000", "email": "zhou@example.com",
                                             "message": "回电 13600136000"})
    with services.db.write() as s:
        customer = create_customer(s, {"name": "周九"})
        update_lead(s, lead_id, {"related_customer_id": customer.id}, "admin", viewer=SYSTEM)
        with pytest.raises(LeadsError, match="不存在"):
            update_lead(s, lead_id, {"related_customer_id": 4242}, "admin", viewer=SYSTEM)
    with services.db.read() as s:
        lead = s.get(Lead, lead_id)
        assert lead.customer_id == customer.id
        masked = lead_dict(s, lead, mask=True, raw=True)
        assert masked["mobile"] == "136****6000" and masked["email"].startswith("z***@")
        assert "13600136000" not in str(masked)
        assert lead_dict(s, lead, mask=False)["mobile"] == "13600136000"
