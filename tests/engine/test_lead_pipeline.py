"""The lead guide's three flows end to end through the real pipeline: intake stores the lead and
its event, the scene's default strategy runs 识别客户 → 自动打标签 → 分配 → 自动回复."""
from __future__ import annotations

from sqlmodel import select

from crm.customers.models import Customer
from crm.tags.models import CustomerTag
from crm.customers.service import create_customer
from crm.leads.intake import Submission, submit
from crm.leads.models import Lead, LeadAssignment, LeadDeadLetter, LeadLog, LeadTag
from crm.people import service as people
from crm.sales.templates import create_template
from crm.tags.categories import create_category
from crm.tags.service import create_tag
from engine.lead_scenes import save_scene
from tests.engine.conftest import row


def _users(svc, *names):
    people.ensure_builtin_roles(svc.db)
    return [people.create_user(svc.db, n, "Passw0rd123", display_name=n).id for n in names]


def _tags(svc, *names):
    with svc.db.write() as s:
        cat = create_category(s, {"name": "线索标签"})
        return [create_tag(s, {"name": n, "category_id": cat.id, "kind": "manual"}, None).id for n in names]


def _scene(rt, data):
    with rt.services.db.write() as s:
        scene, secret = save_scene(s, data, registry=rt.registry, box=rt.services.secret_box, author="test")
        sid = scene.id
    rt.invalidate()
    return sid


def _lead(svc, lead_id) -> Lead:
    with svc.db.read() as s:
        return s.get(Lead, lead_id)


def _logs(svc, lead_id) -> list[str]:
    with svc.db.read() as s:
        return [r.stage for r in s.exec(select(LeadLog).where(LeadLog.lead_id == lead_id).order_by(LeadLog.id))]


def test_web_form_existing_customer_tagged_assigned_by_product_line_and_thanked(runtime, smtp_sink):
    svc = runtime.services
    alice, bob = _users(svc, "alice", "bob")
    product_a, price = _tags(svc, "产品A意向", "价格咨询")
    with svc.db.write() as s:
        old = create_customer(s, {"name": "张三", "email": "zhangsan@example.com"})
        old_id = old.id
        old.owner_id = None
        create_template(s, {"code": "thanks", "name": "感谢留资", "channel": "email", "subject": "感谢您的咨询",
                            "body": "${name}您好，我们已收到您对${product}的咨询。"})
    scene_id = _scene(runtime, {
        "name": "官网产品咨询表单", "scene_type": "WEB_FORM", "dedup_strategy": "BY_PHONE_OR_EMAIL",
        "mapping_rules": [{"source": "submission_data.message", "target": "message"},
                          {"source": "form_id", "target": "form_id", "label": "表单ID"}],
        "tagging_rules": [
            {"name": "产品A", "rows": [row("message", "contains", "产品A")], "tags": [product_a]},
            {"name": "价格", "rows": [row("message", "contains", "价格")], "tags": [price]}],
        "assignment_rules": {"rules": [
            {"name": "产品A线", "rows": [row("message", "contains", "产品A")], "method": "round_robin", "user_ids": [bob]},
            {"name": "其他", "rows": [], "method": "round_robin", "user_ids": [alice]}]},
        "auto_response": {"channel": "email", "template": "thanks"},
    })
    raw = {"form_id": "contact_us_form_v1", "submission_data": {
        "name": "张三", "email": "ZhangSan@Example.com", "phone": "+86 138-0013-8000", "company": "某某公司",
        "message": "对产品A感兴趣，希望了解详情。"}}
    [accepted] = submit(svc.db, scene_id, [Submission(raw=raw, external_id="f-1", meta={"ip_address": "192.168.1.100"})])
    runtime.tick()

    lead = _lead(svc, accepted.lead_id)
    assert lead.customer_id == old_id and not lead.customer_is_new
    assert lead.mobile == "13800138000" and lead.email == "zhangsan@example.com"
    assert lead.lead_data["form_id"] == "contact_us_form_v1"
    assert lead.assignee_user_id == bob and lead.status == "ASSIGNED"
    with svc.db.read() as s:
        assert set(s.exec(select(LeadTag.tag_id).where(LeadTag.lead_id == lead.id))) == {product_a}
        assert set(s.exec(select(CustomerTag.tag_id).where(CustomerTag.customer_id == old_id))) == {product_a}
        customer = s.get(Customer, old_id)
        assert customer.mobile == "13800138000"  # an empty field was filled from the lead
        assert s.exec(select(LeadAssignment).where(LeadAssignment.lead_id == lead.id)).one().to_user_id == bob
    assert lead.responded_at is not None
    [mail] = smtp_sink.messages
    assert mail.rcpt_tos == ["zhangsan@example.com"] and mail.message["Subject"] == "感谢您的咨询"
    assert "张三您好" in mail.body
    assert _logs(svc, lead.id) == ["received", "identified", "tagged", "assigned", "responded"]

    # The same platform delivery again: one lead; a new lead from the same person is a duplicate.
    [again] = submit(svc.db, scene_id, [Submission(raw=raw, external_id="f-1")])
    assert again.duplicate and again.lead_id == lead.id
    [second] = submit(svc.db, scene_id, [Submission(raw=raw, external_id="f-2")])
    runtime.tick()
    assert _lead(svc, second.lead_id).duplicate_of_id == lead.id
    # a known customer is thanked once per the scene's reply window (auto_response.repeat_days, 30 days)
    assert len(smtp_sink.messages) == 1 and _lead(svc, second.lead_id).responded_at is None


def test_order_sync_tags_buyers_and_big_orders_and_assigns_to_service(runtime):
    svc = runtime.services
    (service_user,) = _users(svc, "kefu")
    bought, big = _tags(svc, "已购用户", "高价值订单")
    scene_id = _scene(runtime, {
        "name": "电商订单同步", "scene_type": "ORDER_SYNC", "dedup_strategy": "BY_PHONE",
        "mapping_rules": [{"source": "order.buyer_name", "target": "name"},
                          {"source": "order.buyer_phone", "target": "mobile", "transform": "phone"},
                          {"source": "order.receiver_address", "target": "region"},
                          {"source": "order.items.*.title", "target": "product", "transform": "join"},
                          {"source": "order.total_amount", "target": "value", "transform": "number"}],
        "tagging_rules": [{"name": "已购", "rows": [], "tags": [bought]},
                          {"name": "高价值", "rows": [row("value", "gte", 1000)], "tags": [big]}],
        "assignment_rules": {"rules": [{"name": "客服", "rows": [], "method": "round_robin", "user_ids": [service_user]}]},
    })
    orders = [{"order": {"order_no": "E1", "buyer_name": "李四", "buyer_phone": "13900139000", "receiver_address": "广东省深圳市",
                         "items": [{"title": "面霜"}, {"title": "精华"}], "total_amount": "1299.00"}},
              {"order": {"order_no": "E2", "buyer_name": "王五", "buyer_phone": "13700137000", "receiver_address": "浙江杭州",
                         "items": [{"title": "面膜"}], "total_amount": "89"}}]
    results = submit(svc.db, scene_id, [Submission(raw=o, external_id=o["order"]["order_no"], source="pull") for o in orders])
    runtime.tick()
    first, second = (_lead(svc, r.lead_id) for r in results)
    assert first.lead_data["product"] == "面霜、精华" and first.value == 1299.0
    assert set(first.tag_ids) == {bought, big} and set(second.tag_ids) == {bought}
    assert first.customer_is_new and second.customer_is_new
    assert first.assignee_user_id == service_user == second.assignee_user_id
    with svc.db.read() as s:
        assert s.get(Customer, first.customer_id).source == "电商订单同步"


def test_phone_call_in_then_summary_retags_and_assigns(runtime):
    svc = runtime.services
    (sales,) = _users(svc, "sales1")
    (hot,) = _tags(svc, "高意向")
    scene_id = _scene(runtime, {
        "name": "销售电话呼入", "scene_type": "PHONE_CALL", "dedup_strategy": "BY_PHONE",
        "mapping_rules": [{"source": "caller", "target": "mobile", "transform": "phone"},
                          {"source": "summary", "target": "message"},
                          {"source": "duration", "target": "duration", "type": "number", "label": "通话时长"}],
        "tagging_rules": [{"name": "高意向", "rows": [row("intent", "eq", "高")], "tags": [hot]}],
        "assignment_rules": {"rules": [{"name": "高意向给销售", "rows": [row("intent", "eq", "高")],
                                        "method": "round_robin", "user_ids": [sales]}]},
    })
    [started] = submit(svc.db, scene_id, [Submission(raw={"caller": "13600136000", "call_status": "通话中"},
                                                     external_id="call-1", source="webhook")])
    runtime.tick()
    lead = _lead(svc, started.lead_id)
    assert lead.substatus == "通话中" and lead.assignee_user_id is None and lead.tag_ids == []

    [ended] = submit(svc.db, scene_id, [Submission(
        raw={"caller": "13600136000", "call_status": "通话结束", "summary": "想买年卡", "intent": "高", "duration": 185},
        external_id="call-1", source="webhook", stage="updated")])
    runtime.tick()
    lead = _lead(svc, started.lead_id)
    assert ended.lead_id == lead.id
    assert lead.substatus == "通话结束" and lead.lead_data["intent"] == "高" and lead.lead_data["duration"] == 185
    assert lead.tag_ids == [hot] and lead.assignee_user_id == sales
    with svc.db.read() as s:
        assert s.exec(select(Lead)).all() == [s.get(Lead, lead.id)]  # still one lead


def test_refused_submissions_name_fields_and_store_nothing(runtime):
    svc = runtime.services
    scene_id = _scene(runtime, {"name": "表单", "scene_type": "WEB_FORM"})
    bad = [Submission(raw={"submission_data": {"name": "test", "phone": "12345"}}),
           Submission(raw={"submission_data": {"name": "赵六"}}),
           Submission(raw={"submission_data": {"name": "赵六", "phone": "13811111111"}}),
           Submission(raw={"submission_data": {"name": "<script>alert(1)</script>", "email": "a@b.cn"}})]
    results = submit(svc.db, scene_id, bad)
    assert [sorted(r.errors) for r in results] == [["mobile", "name"], ["mobile"], ["mobile"], ["name"]]
    assert "11 位" in results[0].errors["mobile"] and "测试" in results[0].errors["name"]
    with svc.db.read() as s:
        assert s.exec(select(Lead)).all() == []


def test_a_failing_stage_puts_the_lead_in_dead_letters_and_redrive_reruns_it(runtime):
    svc = runtime.services
    # A template that is disabled after the scene was saved: the respond step fails permanently.
    with svc.db.write() as s:
        tpl = create_template(s, {"code": "hi", "name": "问候", "channel": "sms", "body": "您好${name}"})
    scene_id = _scene(runtime, {"name": "表单2", "scene_type": "WEB_FORM", "auto_response": {"channel": "sms", "template": "hi"}})
    with svc.db.write() as s:
        s.get(type(tpl), tpl.id).enabled = False
    [acc] = submit(svc.db, scene_id, [Submission(raw={"submission_data": {"name": "钱七", "phone": "13500135000"}})])
    runtime.tick()
    lead = _lead(svc, acc.lead_id)
    assert "已停用" in lead.error
    with svc.db.read() as s:
        dl = s.exec(select(LeadDeadLetter)).one()
    assert dl.source == "pipeline" and dl.lead_id == lead.id and "已停用" in dl.reason

    from crm.leads.intake import redrive
    with svc.db.write() as s:
        s.get(type(tpl), tpl.id).enabled = True
    assert redrive(svc.db, dl.id) == lead.id
    runtime.tick()
    lead = _lead(svc, acc.lead_id)
    assert lead.responded_at is not None and lead.error == ""
    with svc.db.read() as s:
        assert s.get(LeadDeadLetter, dl.id).status == "redriven"


def test_editing_a_scene_applies_to_the_next_lead_and_is_versioned(runtime):
    svc = runtime.services
    vip, other = _tags(svc, "VIP意向", "其他意向")
    scene_id = _scene(runtime, {"name": "热更新表单", "scene_type": "WEB_FORM",
                                "tagging_rules": [{"name": "VIP", "rows": [row("message", "contains", "VIP")], "tags": [vip]}]})
    [first] = submit(svc.db, scene_id, [Submission(raw={"submission_data": {"name": "甲", "phone": "13800000001", "message": "VIP"}})])
    runtime.tick()
    with svc.db.write() as s:
        save_scene(s, {"tagging_rules": [{"name": "全部", "rows": [], "tags": [other]}],
                       "mapping_rules": [{"source": "submission_data.budget", "target": "budget", "type": "number"}]},
                   registry=runtime.registry, box=svc.secret_box, author="运营", scene_id=scene_id)
    [second] = submit(svc.db, scene_id, [Submission(raw={"submission_data": {
        "name": "乙", "phone": "13800000002", "message": "VIP", "budget": "5000"}})])
    runtime.tick()  # no restart, no invalidate: the scene is read when each step runs
    assert _lead(svc, first.lead_id).tag_ids == [vip]
    second_lead = _lead(svc, second.lead_id)
    assert second_lead.tag_ids == [other] and second_lead.lead_data["budget"] == 5000
    from crm.leads.scenes import list_versions
    with svc.db.read() as s:
        versions = list_versions(s, scene_id)
    assert [v.version for v in versions] == [2, 1] and versions[0].author == "运营"
    assert {d["field"] for d in versions[0].diff} == {"tagging_rules", "mapping_rules"}


def test_device_welcome_sends_a_friend_request_through_the_risk_budget(runtime):
    from devices.models import DeviceCommand, WechatAccount
    from tests.devices.budget.conftest import make_account

    svc = runtime.services
    account = make_account(svc, wxid="wxid_sales1")
    with svc.db.write() as s:
        s.get(WechatAccount, account).health_score = 45  # 警告: 5 friend requests a day
    scene_id = _scene(runtime, {"name": "抖音私信", "scene_type": "SOCIAL_MEDIA_LEAD", "auto_response": {
        "channel": "device", "device_account": str(account), "device_text": "您好${name}，我是您的专属顾问"}})
    leads = submit(svc.db, scene_id, [Submission(raw={"name": f"客户{i}", "phone": f"1350013500{i}"}) for i in range(7)])
    runtime.tick()
    with svc.db.read() as s:
        commands = list(s.exec(select(DeviceCommand).order_by(DeviceCommand.id)))
    assert [c.status for c in commands].count("queued") == 5  # the 健康分 cap holds for lead welcomes too
    assert commands[0].kind == "add_friend" and commands[0].payload["greeting"] == "您好客户0，我是您的专属顾问"
    responded = [_lead(svc, r.lead_id).responded_at for r in leads]
    assert all(responded)  # deferred requests are queued for later, not dropped


def test_leads_without_a_plan_count_for_the_scenes_one_running_plan(runtime):
    from crm.leads.plans import create_plan

    svc = runtime.services
    scene_id = _scene(runtime, {"name": "投放表单", "scene_type": "WEB_FORM"})
    person = {"submission_data": {"name": "甲", "phone": "13800000009"}}
    [before] = submit(svc.db, scene_id, [Submission(raw=person, external_id="a")])
    with svc.db.write() as s:
        plan_id = create_plan(s, {"name": "双十一", "scene_id": scene_id, "goal_leads": 10}, start=True).id
    [during] = submit(svc.db, scene_id, [Submission(raw=person, external_id="b")])
    with svc.db.write() as s:
        create_plan(s, {"name": "双十二", "scene_id": scene_id, "goal_leads": 10}, start=True)
    [two_running] = submit(svc.db, scene_id, [Submission(raw=person, external_id="c")])
    assert [_lead(svc, r.lead_id).plan_id for r in (before, during, two_running)] == [None, plan_id, None]


def test_one_person_is_one_customer_even_when_leads_are_processed_out_of_order(runtime):
    svc = runtime.services
    scene_id = _scene(runtime, {"name": "乱序表单", "scene_type": "WEB_FORM"})
    # Stored in this order, but the repeat by e-mail is processed first (as a busy worker may).
    original, by_email, by_phone = submit(svc.db, scene_id, [
        Submission(raw={"submission_data": {"name": "甲", "phone": "13800000011", "email": "jia@example.com"}}),
        Submission(raw={"submission_data": {"name": "甲", "phone": "13900000022", "email": "jia@example.com"}}),
        Submission(raw={"submission_data": {"name": "甲", "phone": "13800000011", "email": "jia2@example.com"}})])
    from crm.leads.identify import identify
    from crm.leads.models import LeadScene
    for acc in (by_email, original, by_phone):
        with svc.db.write() as s:
            identify(s, s.get(Lead, acc.lead_id), s.get(LeadScene, scene_id), svc.now())
    customers = {_lead(svc, a.lead_id).customer_id for a in (original, by_email, by_phone)}
    assert len(customers) == 1
    with svc.db.read() as s:
        assert len(s.exec(select(Customer)).all()) == 1


def test_a_known_customer_paying_by_payment_code_is_a_deal(runtime):
    svc = runtime.services
    with svc.db.write() as s:
        known = create_customer(s, {"name": "老客户", "mobile": "13800000077"}).id
    scene_id = _scene(runtime, {"name": "门店收款", "scene_type": "PAYMENT_CODE", "dedup_strategy": "BY_PHONE"})
    paid = submit(svc.db, scene_id, [Submission(raw={"mobile": "13800000077", "value": 199}, external_id="T1", source="payment"),
                                     Submission(raw={"mobile": "13900000088", "value": 99}, external_id="T2", source="payment")])
    runtime.tick()
    old, new = (_lead(svc, r.lead_id) for r in paid)
    assert old.customer_id == known and old.status == "CONVERTED" and old.converted_at is not None
    assert new.customer_is_new and new.status in ("QUALIFIED", "ASSIGNED")


def test_platform_credentials_are_sealed_kept_when_blank_and_cleared_on_request(runtime):
    from crm.leads.models import LeadScene
    from crm.leads.scenes import open_credentials

    svc = runtime.services
    scene_id = _scene(runtime, {"name": "订单拉取", "scene_type": "ORDER_SYNC", "credentials": {"app_key": "k1", "app_secret": "s3cr3t"}})
    with svc.db.read() as s:
        scene = s.get(LeadScene, scene_id)
        assert "s3cr3t" not in scene.credentials_sealed and open_credentials(svc.secret_box, scene)["app_secret"] == "s3cr3t"
    for change, expected in (({"credentials": ""}, {"app_key": "k1", "app_secret": "s3cr3t"}), ({"clear_credentials": True}, {})):
        with svc.db.write() as s:
            save_scene(s, change, registry=runtime.registry, box=svc.secret_box, scene_id=scene_id)
        with svc.db.read() as s:
            assert open_credentials(svc.secret_box, s.get(LeadScene, scene_id)) == expected


def test_a_mapping_edit_that_would_break_an_enabled_strategy_is_refused(runtime):
    import pytest

    from crm.leads.errors import LeadsError
    from crm.leads.models import LeadScene

    svc = runtime.services
    scene_id = _scene(runtime, {"name": "预算表单", "scene_type": "WEB_FORM", "mapping_rules": [
        {"source": "submission_data.budget", "target": "budget", "type": "number", "label": "预算"}]})
    with svc.db.read() as s:
        code = s.get(LeadScene, scene_id).event_code
    from tests.engine.conftest import Kit
    Kit(runtime).strategy(code, [row("budget", "gt", 10000)], [{"processor": "log", "config": {"message": "大单"}}],
                          name="大预算提醒")
    with pytest.raises(LeadsError, match="大预算提醒"), svc.db.write() as s:
        save_scene(s, {"mapping_rules": []}, registry=runtime.registry, box=svc.secret_box, scene_id=scene_id)
    with svc.db.read() as s:
        assert s.get(LeadScene, scene_id).mapping_rules[0]["target"] == "budget"  # nothing changed
