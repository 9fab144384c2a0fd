"""The seed manual's acceptance stories, end to end through ingestion, matching and processors."""
from __future__ import annotations

from datetime import datetime

from sqlmodel import select

from config.clock import UTC
from engine.history import record_detail
from engine.models import StepAttempt, StrategyTask
from engine.tasks import cancel_tasks, replay_dead
from events.models import EventRecord
from handlers.definitions import create_definition
from handlers.models import MailMessage, SmsMessage
from tests.engine.conftest import row
from tests.support.fake_http import Reply


def _tasks(svc, **where):
    with svc.db.read() as s:
        stmt = select(StrategyTask).order_by(StrategyTask.id)
        for k, v in where.items():
            stmt = stmt.where(getattr(StrategyTask, k) == v)
        return list(s.exec(stmt))


def _sms(svc):
    with svc.db.read() as s:
        return list(s.exec(select(SmsMessage).order_by(SmsMessage.id)))


SMS_STEP = {"processor": "sms", "config": {"mobile": "${mobile}", "content": "${customerName}，您的密码已修改"},
            "timing": {"mode": "immediate"}}


def test_password_changed_sends_sms_only_on_success(kit):
    kit.strategy("password_changed", [row("status", "eq", "1")], [SMS_STEP], name="用户修改密码提醒")
    ok = kit.post({"event": "password_changed", "data": {"customerName": "张三", "mobile": "13800138000", "status": "1"}})
    no = kit.post({"event": "password_changed", "data": {"customerName": "李四", "mobile": "13900139000", "status": "0"}})
    kit.rt.tick()
    sms = _sms(kit.svc)
    assert [m.content for m in sms] == ["张三，您的密码已修改"] and sms[0].mobile == "13800138000"
    with kit.svc.db.read() as s:
        hit = s.get(EventRecord, ok.payload["accepted"][0]["record_id"])
        miss_id = no.payload["accepted"][0]["record_id"]
        miss = s.get(EventRecord, miss_id)
        detail = record_detail(s, miss_id, kit.svc.now(), "Asia/Shanghai")
    assert hit.outcome == "matched" and hit.matched_count == 1
    assert miss.outcome == "unmatched" and miss.matched_count == 0
    why = detail["unmatched"][0]
    assert why["reason"] == "条件不满足" and why["trace"][0].result is False


SURVEY = {"event": "survey_submitted", "data": {"customerName": "王五", "email": "wangwu@example.com", "score": 5, "vipLevel": 3}}
MAIL_STEP = {"processor": "email", "config": {"to": "${email}", "subject": "感谢信", "body": "尊敬的${customerName}，谢谢！"},
             "timing": {"mode": "delay", "hours": 48}}


def test_vip3_thank_you_mail_fires_after_48_hours(kit, smtp_sink, clock):
    kit.strategy("survey_submitted", [row("score", "gt", "4"), row("vipLevel", "eq", "3")], [MAIL_STEP])
    kit.post(SURVEY)
    kit.post({**SURVEY, "data": {**SURVEY["data"], "score": 4}})  # 4 is not > 4
    kit.rt.tick()
    pending = _tasks(kit.svc)
    assert [t.status for t in pending] == ["pending"]
    clock.advance(hours=47, minutes=59)
    kit.rt.tick()
    assert smtp_sink.messages == [] and _tasks(kit.svc)[0].status == "pending"
    clock.advance(minutes=2)
    kit.rt.tick()
    assert _tasks(kit.svc)[0].status == "done"
    assert len(smtp_sink.messages) == 1 and smtp_sink.messages[0].message["Subject"] == "感谢信"
    assert "王五" in smtp_sink.messages[0].body and smtp_sink.messages[0].rcpt_tos == ["wangwu@example.com"]


def test_cancelling_before_due_prevents_the_mail(kit, smtp_sink, clock):
    kit.strategy("survey_submitted", [row("score", "gt", "4"), row("vipLevel", "eq", "3")], [MAIL_STEP])
    kit.post(SURVEY)
    kit.rt.tick()
    task = _tasks(kit.svc)[0]
    with kit.svc.db.write() as s:
        assert cancel_tasks(s, [task.id], "tester") == 1
    clock.advance(hours=49)
    kit.rt.tick()
    assert smtp_sink.messages == [] and _tasks(kit.svc)[0].status == "cancelled"


def _bank_strategy(kit, fake_http, at: datetime):
    proc = create_definition(kit.svc.db, {"name": "推送分期优惠券", "method": "POST", "url": fake_http.url("/coupon"),
                                          "params": [{"name": "mobile", "value": "${mobile}"}],
                                          "body": '{"customer": "${customerName}", "amount": ${rep_amount}}'})
    steps = [{**SMS_STEP, "config": {"mobile": "${mobile}", "content": "还款成功"}},
             {"processor": proc.key, "config": {}, "timing": {"mode": "immediate"}},
             {"processor": "sms", "config": {"mobile": "${mobile}", "content": "新产品上线"},
              "timing": {"mode": "until", "at": at.isoformat()}}]
    return kit.strategy("bank_withholding", [row("loan_status", "eq", "成功"), row("is_last_period", "eq", "true")], steps)


BANK = {"event": "bank_withholding", "data": {"customerName": "赵六", "mobile": "13700137000", "loan_type": "银行代扣",
                                               "loan_status": "成功", "is_last_period": True, "rep_amount": 1200}}


def test_bank_withholding_retries_http_three_attempts(kit, fake_http, clock):
    fake_http.fail_then_succeed("/coupon", failures=2)
    _bank_strategy(kit, fake_http, datetime(2026, 11, 25, 10, 0, tzinfo=UTC))
    kit.post(BANK)
    kit.rt.tick()
    http_task = _tasks(kit.svc, step_index=1)[0]
    assert http_task.status == "failed" and http_task.attempts == 1
    for _ in range(3):
        clock.advance(seconds=10)
        kit.rt.tick()
    http_task = _tasks(kit.svc, step_index=1)[0]
    assert http_task.status == "done" and http_task.attempts == 3
    with kit.svc.db.read() as s:
        attempts = list(s.exec(select(StepAttempt).where(StepAttempt.task_id == http_task.id).order_by(StepAttempt.number)))
    assert [a.ok for a in attempts] == [False, False, True]
    sent = fake_http.requests_to("/coupon")
    assert len(sent) == 3 and sent[-1].json() == {"customer": "赵六", "amount": 1200}
    assert len({r.headers.get("Idempotency-Key") for r in sent}) == 1
    delayed = _tasks(kit.svc, step_index=2)[0]
    assert delayed.status == "pending" and delayed.timing == "until"
    clock.set(datetime(2026, 11, 25, 10, 0, 1, tzinfo=UTC))
    kit.rt.tick()
    assert _tasks(kit.svc, step_index=2)[0].status == "done"
    assert [m.content for m in _sms(kit.svc)] == ["还款成功", "新产品上线"]


def test_until_time_already_passed_is_skipped_and_says_so(kit, fake_http):
    fake_http.always("/coupon", Reply(200))
    _bank_strategy(kit, fake_http, datetime(2026, 11, 1, 10, 0, tzinfo=UTC))
    kit.post(BANK)
    kit.rt.tick()
    skipped = _tasks(kit.svc, step_index=2)[0]
    assert skipped.status == "skipped" and "已过" in skipped.note


def test_always_failing_target_is_dead_letter_then_replays(kit, fake_http, clock):
    fake_http.always("/coupon", Reply(503))
    _bank_strategy(kit, fake_http, datetime(2026, 11, 25, 10, 0, tzinfo=UTC))
    kit.post(BANK)
    for _ in range(5):
        kit.rt.tick()
        clock.advance(seconds=30)
    dead = _tasks(kit.svc, step_index=1)[0]
    assert dead.status == "dead" and dead.attempts == 3 and "503" in dead.last_error
    fake_http.always("/coupon", Reply(200))
    with kit.svc.db.write() as s:
        assert replay_dead(s, [dead.id], kit.svc.now(), 3, "tester") == 1
    kit.rt.tick()
    done = _tasks(kit.svc, step_index=1)[0]
    assert done.status == "done" and done.attempts == 4


def test_disabled_strategy_cancels_pending_and_delayed_step_rechecks(kit, clock):
    from engine.lifecycle import pending_task_count, set_enabled

    sid = kit.strategy("survey_submitted", [], [MAIL_STEP])
    kit.post(SURVEY)
    kit.post({**SURVEY, "id": "x2"})
    kit.rt.tick()
    with kit.svc.db.write() as s:
        assert pending_task_count(s, [sid]) == 2
        assert set_enabled(s, [sid], False) == {"changed": 1, "cancelled_tasks": 2}
    assert {t.status for t in _tasks(kit.svc)} == {"cancelled"}


def test_every_matching_strategy_fires_in_order(kit):
    log = {"processor": "log", "config": {"message": "hit ${customerName}"}, "timing": {"mode": "immediate"}}
    a = kit.strategy("password_changed", [row("status", "eq", "1")], [log], name="A", group="组一")
    b = kit.strategy("password_changed", [], [log], name="B", group="组一")
    c = kit.strategy("password_changed", [row("status", "eq", "0")], [log], name="C", group="组二")
    kit.post({"event": "password_changed", "data": {"customerName": "张三", "mobile": "13800138000", "status": "1"}})
    kit.rt.tick()
    assert [t.strategy_id for t in _tasks(kit.svc)] == [a, b]
    assert c not in [t.strategy_id for t in _tasks(kit.svc)]


def test_immediate_steps_after_a_retrying_step_wait_for_it(kit, fake_http, clock):
    """A run's immediate steps keep their order: the SMS after a failing HTTP call is not sent
    before the call succeeds, and is not counted as an attempt while it waits."""
    fake_http.fail_then_succeed("/crm", failures=2)
    proc = create_definition(kit.svc.db, {"name": "登记到CRM", "method": "POST", "url": fake_http.url("/crm"),
                                          "body_template": '{"mobile": "${mobile}"}'})
    kit.strategy("password_changed", [], [
        {"processor": proc.key, "config": {}, "timing": {"mode": "immediate"}},
        {"processor": "sms", "config": {"mobile": "${mobile}", "content": "已登记"}, "timing": {"mode": "immediate"}}])
    kit.post({"id": "o-1", "event": "password_changed", "data": {"customerName": "甲", "mobile": "13800000001", "status": "1"}})
    kit.rt.tick()
    http, sms = _tasks(kit.svc)
    assert (http.status, sms.status, sms.attempts) == ("failed", "pending", 0)
    assert "等待步骤 1" in sms.note and sms.due_at > http.due_at and _sms(kit.svc) == []
    for _ in range(4):
        clock.advance(seconds=10)
        kit.rt.tick()
    http, sms = _tasks(kit.svc)
    assert (http.status, http.attempts, sms.status, sms.attempts) == ("done", 3, "done", 1)
    with kit.svc.db.read() as s:
        attempts = {a.task_id: a for a in s.exec(select(StepAttempt).order_by(StepAttempt.id))}  # the last of each
    assert attempts[sms.id].started_at >= attempts[http.id].finished_at
    assert [m.content for m in _sms(kit.svc)] == ["已登记"]
