"""A returning customer through the real lead pipeline (识别 → 打标签 → 分配 → 自动回复): their new
lead stays with their owner instead of the next in the rotation, the auto reply is not sent again
inside the scene's reply window, a placeholder name (线索N) gives way to the real name a later
lead brings, and a lead with no customer reports customer_is_new as unknown, not false."""
from __future__ import annotations

import pytest
from sqlmodel import func, select

from crm.customers.models import Customer
from crm.leads.intake import Submission, submit
from crm.leads.models import Lead
from crm.leads.service import lead_dicts
from crm.people import service as people
from crm.sales.models import MessageTemplate
from handlers.models import SmsMessage
from tests.crm.leads.test_payments import make_scene, rt  # noqa: F401 - the runtime fixture


@pytest.fixture
def scene(rt):  # noqa: F811
    db = rt.services.db
    a, b = (people.create_user(db, login, "Passw0rd1", display_name=name).id for login, name in (("zhang", "张三"), ("li", "李四")))
    with db.write() as s:
        s.add(MessageTemplate(code="thanks", name="感谢留资", channel="sms", body="您好，已收到您的咨询"))
    sid = make_scene(rt, name="官网表单", key="webform", scene_type="WEB_FORM",
                     auto_response={"channel": "sms", "template": "thanks"},
                     assignment_rules={"rules": [{"name": "全部", "method": "round_robin", "user_ids": [a, b]}]})
    return {"id": sid, "a": a, "b": b}


def _lead(rt, scene_id, external_id, **raw) -> Lead:  # noqa: F811
    [result] = submit(rt.services.db, scene_id, [Submission(raw=raw, external_id=external_id)])
    rt.tick()
    with rt.services.db.read() as s:
        return s.get(Lead, result.lead_id)


def _sms(db) -> int:
    with db.read() as s:
        return s.exec(select(func.count()).select_from(SmsMessage)).one()


def test_returning_customer_keeps_owner_gets_one_reply_and_their_real_name(rt, scene):  # noqa: F811
    db = rt.services.db
    first = _lead(rt, scene["id"], "f1", mobile="13800138000")
    with db.read() as s:
        customer = s.get(Customer, first.customer_id)
    assert first.customer_is_new and customer.name == f"线索{first.id}" and first.assignee_user_id == scene["a"]
    assert _sms(db) == 1 and first.responded_at is not None
    second = _lead(rt, scene["id"], "f2", mobile="13800138000", name="王小明")
    with db.read() as s:
        customer = s.get(Customer, first.customer_id)
    assert (second.customer_id, second.customer_is_new) == (customer.id, False)
    assert second.assignee_user_id == scene["a"]  # not 李四, the next in the rotation
    assert customer.name == "王小明"  # the placeholder gave way
    assert _sms(db) == 1 and second.responded_at is None  # thanked once inside the 30-day window
    rt.services.clock.advance(days=31)
    third = _lead(rt, scene["id"], "f3", mobile="13800138000")
    assert _sms(db) == 2 and third.responded_at is not None


def test_a_lead_without_customer_does_not_claim_a_known_one(rt):  # noqa: F811
    """A payment code's payer (an openid, no phone): no customer, so not 'a known customer' either."""
    relaxed = make_scene(rt, name="打赏码", key="tips", scene_type="PAYMENT_CODE", params={"require_contact": False})
    lead = _lead(rt, relaxed, "T-1", payer="openid-1", value=2)
    with rt.services.db.read() as s:
        [out] = lead_dicts(s, [s.get(Lead, lead.id)], mask=False)
    assert out["related_customer_id"] is None and out["customer_is_new"] is None
