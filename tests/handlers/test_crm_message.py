"""发送模板消息 through the engine: the customer's own fields fill the template, the SMS goes
through the 短信发件箱 and the e-mail through SMTP, history masks the number, and a replayed step
sends nothing twice."""
from __future__ import annotations

import pytest

from handlers.errors import PermanentError
from handlers.models import SmsMessage
from tests.engine.conftest import engine_services, kit, runtime  # noqa: F401 - fixtures
from tests.handlers.crm_kit import MOBILE, customer, growth, rows, run_direct, step, tasks, template


def _welcome_step(kit):
    """张三 of 上海 gets the 'welcome' template through a strategy step; (customer id, task)."""
    cid = customer(kit.svc, "张三", city="上海")
    template(kit.svc, "welcome", "${name}您好，欢迎来自${city}的您")
    kit.strategy("tag_customer", [], [step("crm.send_template", template="welcome")])
    kit.post({"event": "tag_customer", "data": {"customerId": str(cid), "tagName": "x"}})
    kit.rt.tick()
    [task] = tasks(kit.svc)
    return cid, task


def test_sms_template_with_customer_fields_once(kit):
    cid, task = _welcome_step(kit)
    assert task.status == "done", task.last_error
    [sms] = rows(kit.svc, SmsMessage)
    assert (sms.mobile, sms.content) == (MOBILE, "张三您好，欢迎来自上海的您")
    assert task.rendered["mobile"] == "138****8000" and task.rendered["template"] == "welcome"
    assert MOBILE not in str(task.rendered) and task.note.startswith("模板「welcome」：")
    assert growth(kit.svc, cid) == [f"策略 #{task.strategy_id}：发送短信「welcome」（步骤 {task.idempotency_key}）"]
    again = run_direct(kit, "crm.send_template", {"customerId": cid}, {"template": "welcome"}, task.idempotency_key)
    assert "未重复发送" in again.note
    assert len(rows(kit.svc, SmsMessage)) == 1 and len(growth(kit.svc, cid)) == 1


def test_email_template_over_smtp(kit, smtp_sink):
    customer(kit.svc, "王五", "13900000005", email="wangwu@example.com")
    tid = template(kit.svc, "thanks", "尊敬的${name}，感谢您的支持", channel="email", subject="致${name}")
    out = run_direct(kit, "crm.send_template", {"mobile": "13900000005"}, {"template": str(tid)})
    assert out.response["status"] == "sent"
    [mail] = smtp_sink.messages
    assert mail.message["Subject"] == "致王五" and "尊敬的王五" in mail.body and mail.rcpt_tos == ["wangwu@example.com"]


def test_missing_contact_template_and_variables(kit):
    customer(kit.svc, "无邮箱")
    template(kit.svc, "mail", "hi", channel="email", subject="s")
    template(kit.svc, "bad", "${no_such_field}")
    with pytest.raises(PermanentError, match="没有邮箱，无法发送邮件"):
        run_direct(kit, "crm.send_template", {"mobile": MOBILE}, {"template": "mail"})
    with pytest.raises(PermanentError, match="消息模板不存在：nope"):
        run_direct(kit, "crm.send_template", {"mobile": MOBILE}, {"template": "nope"})
    with pytest.raises(PermanentError, match="模板渲染失败"):
        run_direct(kit, "crm.send_template", {"mobile": MOBILE}, {"template": "bad"})
    assert rows(kit.svc, SmsMessage) == []


def test_the_sender_is_the_registered_processor_run_by_the_executor(kit):
    """One door: 发送模板消息 hands its sending to the processor registered under "sms" in the
    registry the executor runs from (a replaced one included), under the step's own key —
    never to a privately instantiated sender."""
    from handlers.base import Outcome
    from handlers.builtin.sms import SmsProcessor

    seen = []

    class RecordingSms(SmsProcessor):
        def run(self, ctx, config):
            seen.append((ctx.idempotency_key, ctx.task_id, ctx.data["content"]))
            return Outcome(request={"mobile": "138****8000"}, note="已记录")

    kit.rt.registry.register(RecordingSms(), replace=True)
    _cid, task = _welcome_step(kit)
    assert task.status == "done" and seen == [(task.idempotency_key, task.id, "张三您好，欢迎来自上海的您")]
    assert rows(kit.svc, SmsMessage) == []


def test_event_variables_fill_the_template_beside_the_customer_fields(kit):
    """变量来源事件 (the manual's ${code}): a template bound to an event is saved only with that
    event's fields, and a strategy step fills them from the event while the customer's own fields
    still come from the record (an event field of the same name never overrides them)."""
    from crm.errors import CrmError
    from crm.sales.templates import create_template, sender_variables

    cid = customer(kit.svc, "张三", city="上海")
    kit.strategy("tag_customer", [], [step("crm.send_template", template="code_tpl")])
    with kit.svc.db.write() as s:
        with pytest.raises(CrmError, match=r"未知变量：\$\{tagName\}"):
            create_template(s, {"code": "code_tpl", "name": "验证码", "body": "${name}您好，${tagName}"})
    with kit.svc.db.write() as s:
        with pytest.raises(CrmError, match="事件「no.such」不存在"):
            create_template(s, {"code": "code_tpl", "name": "验证码", "body": "hi", "event_code": "no.such"})
    with kit.svc.db.write() as s:
        tpl = create_template(s, {"code": "code_tpl", "name": "验证码", "event_code": "tag_customer",
                                  "body": "${name}您好，验证码${tagName}，来自${city}"})
        assert [v["name"] for v in sender_variables(s, tpl)] == ["tagName"]
    kit.post({"event": "tag_customer", "data": {"customerId": str(cid), "tagName": "1090", "city": "北京"}})
    kit.rt.tick()
    [task] = tasks(kit.svc)
    assert task.status == "done", task.last_error
    [sms] = rows(kit.svc, SmsMessage)
    assert sms.content == "张三您好，验证码1090，来自上海"
