"""定向营销 end to end: the seed's "a plan every 2 days refreshing its list" — pushes on day 0,
not day 1, again on day 2 to the changed audience; SMS through the engine's processor into the
outbox exactly once per customer per run even when the run is retried; failures named."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import select

from config.clock import as_utc
from crm.customers.models import Customer
from crm.sales.marketing import create_plan, get_plan
from crm.sales.models import MarketingPlan, MarketingRun
from crm.sales.templates import create_template
from crm.tags.models import CustomerTag, Tag, TagCategory
from engine.cron import CronJob
from engine.history import record_detail
from engine.marketing import CRON_JOB, run_due_plans
from events.models import EventRecord
from handlers.models import MailMessage, SmsMessage

SH = ZoneInfo("Asia/Shanghai")


def _setup(db, channel="sms"):
    with db.write() as s:
        cat = TagCategory(name="资产")
        s.add(cat)
        s.flush()
        vip, no = Tag(category_id=cat.id, name="VIP"), Tag(category_id=cat.id, name="勿扰")
        s.add_all([vip, no])
        s.flush()
        people = [Customer(name="张三", mobile="13800138000", email="zs@example.com"),
                  Customer(name="李四", mobile="+86 139-0013-9000", email="ls@example.com"),
                  Customer(name="王五"),  # no mobile, no e-mail → skipped
                  Customer(name="赵六", mobile="12345"),  # not a mobile → failed, named
                  Customer(name="孙七", mobile="13700137000")]  # 勿扰 → excluded
        s.add_all(people)
        s.flush()
        s.add_all([CustomerTag(customer_id=c.id, tag_id=vip.id) for c in people])
        s.add(CustomerTag(customer_id=people[4].id, tag_id=no.id))
        tpl = create_template(s, {"code": "mkt1", "name": "回馈", "channel": channel, "subject": "${name}专享",
                                  "body": "${name}您好，VIP专享活动"})
        return vip.id, no.id, tpl.id


def _plan(db, clock, tpl_id, vip, no, refresh, schedule="every_n_days"):
    with db.write() as s:
        return create_plan(s, {"name": "VIP隔天推送", "include_tags": [vip], "exclude_tags": [no],
                               "template_id": tpl_id, "schedule": schedule, "every_days": 2, "run_time": "10:30",
                               "refresh_audience": refresh}, now=clock.now(), tz="Asia/Shanghai").id


def _sms(db):
    with db.read() as s:
        return list(s.exec(select(SmsMessage).order_by(SmsMessage.id)))


def _runs(db, plan_id):
    with db.read() as s:
        return list(s.exec(select(MarketingRun).where(MarketingRun.plan_id == plan_id).order_by(MarketingRun.id)))


def _add_vip(db, name, mobile, vip):
    with db.write() as s:
        c = Customer(name=name, mobile=mobile)
        s.add(c)
        s.flush()
        s.add(CustomerTag(customer_id=c.id, tag_id=vip))


def test_every_two_days_refreshing_the_list(runtime):
    db, clock = runtime.services.db, runtime.services.clock  # Friday 10:00 Shanghai
    vip, no, tpl = _setup(db)
    plan_id = _plan(db, clock, tpl, vip, no, refresh=True)
    with db.read() as s:
        assert as_utc(get_plan(s, plan_id).next_run_at) == datetime(2026, 11, 20, 10, 30, tzinfo=SH)
    assert run_due_plans(runtime) == "没有到期的定向营销计划"

    clock.advance(minutes=31)  # day 0, 10:31
    summary = run_due_plans(runtime)
    assert "推送 4 人：成功 2，失败 1，跳过 1" in summary
    assert [(m.mobile, m.content) for m in _sms(db)] == [("13800138000", "张三您好，VIP专享活动"),
                                                         ("13900139000", "李四您好，VIP专享活动")]
    run = _runs(db, plan_id)[0]
    assert (run.audience, run.sent, run.failed, run.skipped) == (4, 2, 1, 1)
    reasons = {d["result"]: d["reason"] for d in run.detail}
    assert "不是有效的中国大陆手机号" in reasons["failed"] and reasons["skipped"] == "客户没有手机号"

    # The push is retried (as after a crash before the plan moved on): nobody gets it twice.
    with db.write() as s:
        s.get(MarketingPlan, plan_id).next_run_at = run.ran_at
    assert "续推 4 人：成功 2" in run_due_plans(runtime)
    assert len(_sms(db)) == 2 and len(_runs(db, plan_id)) == 1

    clock.advance(days=1)  # day 1: not due
    assert run_due_plans(runtime) == "没有到期的定向营销计划"
    _add_vip(db, "周八", "13600136000", vip)  # the list changes before day 2

    clock.advance(days=1)  # day 2, 10:31
    assert "推送 5 人：成功 3" in run_due_plans(runtime)
    runs = _runs(db, plan_id)
    assert [r.audience for r in runs] == [4, 5]
    sms = _sms(db)
    assert [m.mobile for m in sms[2:]] == ["13800138000", "13900139000", "13600136000"]
    keys = [m.idempotency_key for m in sms]
    assert len(set(keys)) == len(keys) and all(k.startswith(f"mkt:{plan_id}:") for k in keys)
    with db.read() as s:
        assert as_utc(get_plan(s, plan_id).next_run_at) == datetime(2026, 11, 24, 10, 30, tzinfo=SH)


def test_frozen_list_and_run_once(runtime):
    db, clock = runtime.services.db, runtime.services.clock
    vip, no, tpl = _setup(db)
    frozen = _plan(db, clock, tpl, vip, no, refresh=False, schedule="daily")
    once = _plan(db, clock, tpl, vip, no, refresh=True, schedule="once")
    clock.advance(minutes=31)
    run_due_plans(runtime)
    _add_vip(db, "周八", "13600136000", vip)
    clock.advance(days=1)
    run_due_plans(runtime)
    assert [r.audience for r in _runs(db, frozen)] == [4, 4]  # frozen at the first push
    assert len(_runs(db, once)) == 1
    with db.read() as s:
        assert get_plan(s, once).status == "finished" and get_plan(s, once).next_run_at is None
        assert get_plan(s, frozen).status == "active"
    assert isinstance(CRON_JOB, CronJob) and CRON_JOB.run is run_due_plans


def test_email_plan_goes_through_smtp(runtime, smtp_sink):
    db, clock = runtime.services.db, runtime.services.clock
    vip, no, tpl = _setup(db, channel="email")
    plan_id = _plan(db, clock, tpl, vip, no, refresh=True, schedule="once")
    clock.advance(minutes=31)
    assert "成功 2，失败 0，跳过 2" in run_due_plans(runtime)
    with db.read() as s:
        mails = list(s.exec(select(MailMessage)))
    assert sorted(m.to for m in mails) == ["ls@example.com", "zs@example.com"]
    assert {m.subject for m in mails} == {"张三专享", "李四专享"}
    assert len(smtp_sink.messages) == 2
    assert _runs(db, plan_id)[0].sent == 2


def test_a_push_goes_through_the_ledger_with_retries_and_history(runtime, smtp_sink):
    """One door: each message is a `crm.marketing_push` event with a planned send step, so a
    relay that says "try later" is retried by the executor (not lost), and 事件历史 shows the
    event, the step and every attempt. The run's counts follow the ledger."""
    db, clock = runtime.services.db, runtime.services.clock
    vip, no, tpl = _setup(db, channel="email")
    plan_id = _plan(db, clock, tpl, vip, no, refresh=True, schedule="once")
    clock.advance(minutes=31)
    smtp_sink.refuse("data", "451 4.3.0 Try again later")
    summary = run_due_plans(runtime)
    assert "成功 0，失败 0，跳过 2，发送中 2" in summary and smtp_sink.messages == []
    smtp_sink.refuse_data = None
    clock.advance(seconds=30)
    runtime.tick()
    assert sorted(m.rcpt_tos[0] for m in smtp_sink.messages) == ["ls@example.com", "zs@example.com"]
    run_due_plans(runtime)  # re-reads the run's counts from the ledger
    run = _runs(db, plan_id)[0]
    assert (run.sent, run.failed, run.skipped) == (2, 0, 2)
    with db.read() as s:
        records = list(s.exec(select(EventRecord).where(EventRecord.event_code == "crm.marketing_push")))
        assert len(records) == 2 and {r.source for r in records} == {"marketing"}
        detail = record_detail(s, records[0].id, clock.now(), "Asia/Shanghai")
    [step] = detail["runs"][0]["tasks"]
    assert step["task"].status == "done" and step["task"].idempotency_key.startswith(f"mkt:{plan_id}:")
    assert [a.ok for a in step["attempts"]] == [False, True] and "稍后重试" in step["attempts"][0].error
    assert "定向营销" in detail["runs"][0]["run"].strategy_name
