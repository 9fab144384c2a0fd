"""付款码获客: creating codes (scene type, provider, fixed/open amount, parameters), and paid
notifications becoming leads through the real pipeline — a known customer's payment is linked to
them, a resent notification counts once, a refused submission still records the money and waits
in 线索死信, and wrong tokens/providers/amounts are refused with nothing written."""
from __future__ import annotations

import pytest
from sqlmodel import func, select

from crm.customers.service import create_customer
from crm.leads import payments
from crm.leads.errors import LeadsError
from crm.leads.intake import redrive
from crm.leads.models import AcquisitionPlan, Lead, LeadChannel, LeadDeadLetter, PaymentCode, PaymentRecord
from engine.lead_scenes import save_scene
from engine.runtime import Runtime


@pytest.fixture
def rt(services):
    runtime = Runtime(services)
    yield runtime
    runtime.stop()


def make_scene(rt, **data) -> int:
    """A scene saved as the console does (its event and pipeline strategy included)."""
    with rt.services.db.write() as s:
        scene, _ = save_scene(s, {"dedup_strategy": "BY_PHONE", **data}, registry=rt.registry,
                              box=rt.services.secret_box, author="test")
        sid = scene.id
    rt.invalidate()
    return sid


@pytest.fixture
def refs(rt):
    with rt.services.db.write() as s:
        channel = LeadChannel(name="门店收银台", code="cashier", channel_type="OFFLINE_STORE")
        s.add(channel)
        s.flush()
        channel_id = channel.id
    # This scene insists on a phone number (payment scenes do not by default).
    pay = make_scene(rt, name="体验课付款码", key="paycode", scene_type="PAYMENT_CODE", params={"require_contact": True})
    relaxed = make_scene(rt, name="打赏码", key="tips", scene_type="PAYMENT_CODE", params={"require_contact": False})
    form = make_scene(rt, name="官网表单", key="webform", scene_type="WEB_FORM")
    with rt.services.db.write() as s:
        plan = AcquisitionPlan(name="双十一体验课", scene_id=pay)
        s.add(plan)
        s.flush()
        plan_id = plan.id
    return {"pay": pay, "relaxed": relaxed, "form": form, "channel": channel_id, "plan": plan_id}


def _code(db, **data) -> PaymentCode:
    with db.write() as s:
        code = payments.create_code(s, data)
        s.expunge(code)
        return code


def _count(db, model) -> int:
    with db.read() as s:
        return s.exec(select(func.count()).select_from(model)).one()


def test_create_code_checks_fields(db, refs):
    code = _code(db, scene_id=refs["pay"], channel_id=refs["channel"], plan_id=refs["plan"], title="9.9 元体验课",
                 provider="wechat_pay", amount_mode="fixed", amount="9.9", params="activity=双十一\nstore = 徐汇店\n")
    assert (code.amount, code.params, code.provider) == (9.9, {"activity": "双十一", "store": "徐汇店"}, "wechat_pay")
    assert _code(db, scene_id=refs["pay"], title="随意付", provider="alipay", amount_mode="open", amount="5").amount is None
    bad = [
        ({"scene_id": refs["form"], "title": "x", "provider": "alipay"}, "scene_id"),
        ({"scene_id": refs["pay"], "title": "x", "provider": "paypal"}, "provider"),
        ({"scene_id": refs["pay"], "title": "", "provider": "alipay"}, "title"),
        ({"scene_id": refs["pay"], "title": "x", "provider": "alipay", "amount_mode": "fixed", "amount": ""}, "amount"),
        ({"scene_id": refs["pay"], "title": "x", "provider": "alipay", "amount_mode": "fixed", "amount": "-1"}, "amount"),
        ({"scene_id": refs["pay"], "title": "x", "provider": "alipay", "amount_mode": "fixed", "amount": "abc"}, "amount"),
        ({"scene_id": refs["pay"], "title": "x", "provider": "alipay", "amount": "2000000"}, "amount"),
        ({"scene_id": refs["pay"], "title": "x", "provider": "alipay", "params": "no equals sign"}, "params"),
    ]
    for data, field in bad:
        with pytest.raises(LeadsError) as exc:
            _code(db, **data)
        assert field in exc.value.errors, (data, exc.value.errors)
    assert _count(db, PaymentCode) == 2


def test_payment_of_a_known_customer_becomes_their_lead_once(rt, refs):
    db = rt.services.db
    with db.write() as s:
        customer_id = create_customer(s, {"name": "张三", "mobile": "13800138000"}).id
    code = _code(db, scene_id=refs["pay"], channel_id=refs["channel"], plan_id=refs["plan"], title="9.9 元体验课",
                 provider="wechat_pay", amount="9.9", params="activity=双十一")
    out = payments.record_payment(db, provider="wechat_pay", token=code.token, trade_no="4200001234", amount_yuan="9.90",
                                  payer="oUpF8uMuAJO_M2pxb1Q9zNjWeS6o", mobile="+86 138 0013 8000",
                                  raw={"transaction_id": "4200001234"})
    assert out.lead_id and not out.duplicate
    rt.tick()  # the scene's pipeline: 识别客户 → 打标签 → 分配 → 回复
    with db.read() as s:
        lead = s.get(Lead, out.lead_id)
        record = s.exec(select(PaymentRecord)).one()
        stored = s.get(PaymentCode, code.id)
        listed = payments.list_records(s, stored)
    assert (lead.customer_id, lead.customer_is_new) == (customer_id, False)
    assert (lead.channel_id, lead.plan_id, lead.external_id, lead.value) == (refs["channel"], refs["plan"], "4200001234", 9.9)
    assert lead.lead_data["product"] == "9.9 元体验课" and lead.raw_data["activity"] == "双十一"
    assert lead.raw_data["payment_code"] == "9.9 元体验课" and lead.raw_data["payer"].startswith("oUpF8")
    assert (record.lead_id, record.amount, record.provider, record.payment_code_id) == (lead.id, 9.9, "wechat_pay", code.id)
    assert (stored.paid_count, stored.paid_total) == (1, 9.9)
    assert [(r.trade_no, lid, cid) for r, lid, cid in listed] == [("4200001234", lead.id, customer_id)]

    again = payments.record_payment(db, provider="wechat_pay", token=code.token, trade_no="4200001234", amount_yuan=9.9,
                                    payer="x", mobile="13800138000")
    assert (again.lead_id, again.customer_id, again.duplicate) == (lead.id, customer_id, True)
    with db.read() as s:
        stored = s.get(PaymentCode, code.id)
    assert (stored.paid_count, stored.paid_total) == (1, 9.9)
    assert _count(db, PaymentRecord) == 1 and _count(db, Lead) == 1


def test_new_payer_becomes_a_prospect_and_open_amounts_add_up(rt, refs):
    db = rt.services.db
    code = _code(db, scene_id=refs["pay"], title="随意付", provider="alipay", amount_mode="open")
    first = payments.record_payment(db, provider="alipay", token=code.token, trade_no="2026112022001", amount_yuan=30,
                                    payer="2088102146225135", mobile="13900139000")
    payments.record_payment(db, provider="alipay", token=code.token, trade_no="2026112022002", amount_yuan="12.5",
                            payer="2088102146225136", mobile="13700137000")
    rt.tick()
    with db.read() as s:
        lead = s.get(Lead, first.lead_id)
        stored = s.get(PaymentCode, code.id)
    assert lead.customer_id is not None and lead.customer_is_new
    assert (stored.paid_count, stored.paid_total) == (2, 42.5)


def test_refused_payment_is_still_recorded_and_waits_in_dead_letters(rt, refs):
    db = rt.services.db
    code = _code(db, scene_id=refs["pay"], title="无手机号", provider="wechat_pay")
    out = payments.record_payment(db, provider="wechat_pay", token=code.token, trade_no="T-no-phone", amount_yuan=1,
                                  payer="openid-1")
    assert out.lead_id is None and not out.duplicate
    with db.read() as s:
        letter = s.exec(select(LeadDeadLetter)).one()
        stored = s.get(PaymentCode, code.id)
    assert letter.source == "payment" and "联系方式" in letter.reason
    assert stored.paid_count == 1 and _count(db, PaymentRecord) == 1
    # After the scene stops demanding a contact, the dead letter is re-driven and the record finds its lead.
    with db.write() as s:
        save_scene(s, {"params": {"require_contact": False}}, registry=rt.registry, box=rt.services.secret_box,
                   scene_id=refs["pay"])
    lead_id = redrive(db, letter.id)
    with db.read() as s:
        [(record, listed_lead, _)] = payments.list_records(s, s.get(PaymentCode, code.id))
    assert listed_lead == lead_id and record.lead_id is None

    # A scene that needs no contact takes the payer alone.
    tips = _code(db, scene_id=refs["relaxed"], title="打赏", provider="wechat_pay")
    assert payments.record_payment(db, provider="wechat_pay", token=tips.token, trade_no="T-tip", amount_yuan=2,
                                   payer="openid-2").lead_id


def test_bad_notifications_are_refused_and_write_nothing(rt, refs):
    db = rt.services.db
    code = _code(db, scene_id=refs["pay"], title="体验课", provider="wechat_pay", amount="9.9")
    stopped = _code(db, scene_id=refs["pay"], title="已停用", provider="wechat_pay")
    with db.write() as s:
        payments.set_active(s, stopped.id, False)
    ok = {"provider": "wechat_pay", "token": code.token, "trade_no": "T1", "amount_yuan": 9.9, "mobile": "13800138000"}
    for change, field in [({"token": "nope"}, "token"), ({"token": stopped.token}, "token"),
                          ({"provider": "alipay"}, "provider"), ({"provider": "paypal"}, "provider"),
                          ({"amount_yuan": 0}, "amount"), ({"amount_yuan": "九块九"}, "amount"),
                          ({"trade_no": ""}, "trade_no"), ({"trade_no": "bad trade no!"}, "trade_no")]:
        with pytest.raises(LeadsError) as exc:
            payments.record_payment(db, **{**ok, **change})
        assert field in exc.value.errors, change
    assert _count(db, PaymentRecord) == 0 and _count(db, Lead) == 0


def test_scans_are_counted(db, refs):
    code = _code(db, scene_id=refs["pay"], title="体验课", provider="wechat_pay")
    with db.write() as s:
        assert payments.record_scan(s, code.token).id == code.id
        payments.record_scan(s, code.token)
        assert payments.record_scan(s, "unknown") is None
    with db.read() as s:
        assert s.get(PaymentCode, code.id).scans == 2
