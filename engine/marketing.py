"""定向营销推送: every minute, the plans whose time has come send their template to their audience
through the same SMS / e-mail processors strategies use — so the 短信发件箱, the SMS gateway and
the SMTP relay see one kind of message, whatever sent it.

Each message carries the idempotency key mkt:<plan>:<run>:<customer>. A push that is interrupted
(crash, restart) is resumed by the next tick under the same run id, and the processors' outbox
check skips every customer already served: nobody gets the same push twice.
"""
from __future__ import annotations

import logging

from config.clock import format_local
from config.pii import mask_email, mask_mobile
from crm.sales.marketing_runs import CHUNK, Tally, close_run, due_plan_ids, load_customers, open_run, save_progress
from crm.sales.templates import customer_data
from engine.cron import CronJob
from handlers.base import ProcessorContext
from handlers.errors import ProcessorError

log = logging.getLogger("ckb.marketing")
EVENT_CODE = "crm.marketing_push"


def _config(template) -> dict:
    if template.channel == "email":
        return {"to": "${email}", "subject": template.subject, "body": template.body, "html": False}
    return {"mobile": "${mobile}", "content": template.body}


def _send_one(runtime, processor, opened, template, customer, data: dict, tally: Tally) -> None:
    contact = customer.email if template.channel == "email" else customer.mobile
    if not (contact or "").strip():
        what = "邮箱" if template.channel == "email" else "手机号"
        tally.fail(customer.id, f"客户没有{what}", "skipped")
        return
    ctx = ProcessorContext(event_code=EVENT_CODE, data=data, event_record_id=0, strategy_id=0, task_id=0,
                           idempotency_key=f"mkt:{opened.plan_id}:{opened.run_id}:{customer.id}", attempt=1,
                           services=runtime.services, customer=data)
    try:
        processor.run(ctx, _config(template))
    except ProcessorError as exc:
        shown = mask_email(contact) if template.channel == "email" else mask_mobile(contact)
        tally.fail(customer.id, f"{shown}：{exc.message}")
        return
    except Exception as exc:  # noqa: BLE001 - one bad customer must not stop the push for the rest
        log.exception("marketing send failed", extra={"plan": opened.plan_id, "customer": customer.id})
        tally.fail(customer.id, f"发送出错：{type(exc).__name__}")
        return
    tally.sent += 1


def run_plan(runtime, plan_id: int) -> str:
    """One due push of one plan; returns a one-line summary (or "" when it was not due)."""
    services = runtime.services
    tz, now = services.settings.timezone, services.now()
    with services.db.write() as s:
        opened = open_run(s, plan_id, now, tz)
    if opened is None:
        return ""
    tally = Tally()
    template = opened.template
    if template is None or not template.enabled:
        tally.failed = len(opened.customer_ids)
        tally.detail = [{"customer_id": None, "result": "failed", "reason": "消息模板已删除或已停用，本次未发送"}]
    else:
        processor = runtime.registry.get("sms" if template.channel == "sms" else "email")
        for start in range(0, len(opened.customer_ids), CHUNK):
            # Reads are short; the processors write their own outbox rows between them.
            with services.db.read() as s:
                customers = load_customers(s, opened.customer_ids[start:start + CHUNK])
                rows = [(c, customer_data(s, c, tz)) for c in customers]
            for customer, data in rows:
                _send_one(runtime, processor, opened, template, customer, data, tally)
            with services.db.write() as s:
                save_progress(s, opened.run_id, tally)
    with services.db.write() as s:
        plan = close_run(s, opened, tally, services.now(), tz)
        name, next_at = plan.name, plan.next_run_at
    nxt = f"，下次 {format_local(next_at, tz_name=tz)}" if next_at else "，计划已结束"
    return (f"「{name}」{'续推' if opened.retried else '推送'} {len(opened.customer_ids)} 人：成功 {tally.sent}，"
            f"失败 {tally.failed}，跳过 {tally.skipped}{nxt}")


def run_due_plans(runtime) -> str:
    """The cron job: every plan whose next push time has come, oldest first."""
    with runtime.services.db.read() as s:
        ids = due_plan_ids(s, runtime.services.now())
    lines = [line for line in (run_plan(runtime, pid) for pid in ids) if line]
    return "；".join(lines) if lines else "没有到期的定向营销计划"


CRON_JOB = CronJob("marketing_plans", "定向营销推送", {"minute": "*"}, run_due_plans)
