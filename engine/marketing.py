"""定向营销推送: every minute, the plans whose time has come send their template to their audience
through the same SMS / e-mail processors strategies use — so the 短信发件箱, the SMS gateway and
the SMTP relay see one kind of message, whatever sent it.

A push goes through the ledger like every other step: one `crm.marketing_push` event per customer
(stored by the one ingestion door, event id mkt:<plan>:<run>:<customer>) with one planned send
step carrying that key. The executor runs the sends — with retries and dead letters — and
事件历史 shows each one. A push that is interrupted (crash, restart) is resumed by the next tick
under the same run id: customers whose event is already stored are not planned again, so nobody
gets the same push twice. The run's counts (推送历史) are read back from the ledger each minute
until every send has finished.

A plan that promotes a product (商品定向营销) targets the product's 目标客户群 (commerce.audience,
narrowed by the plan's tags when set) and fills ${product_name} / ${product_price} /
${product_link}; a template that does not place the link gets it appended on its own line. A
product deleted, off shelf or out of stock at push time stops the push with that reason.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from sqlmodel import select

from commerce import audience as product_audience
from commerce.catalog.models import ProductSpu
from commerce.recommend.ranker import sellable
from config.clock import format_local
from crm.scope import SYSTEM
from crm.sales.marketing_runs import CHUNK, Tally, close_run, due_plan_ids, load_customers, open_run, save_progress
from crm.sales.models import MarketingPlan, MarketingRun
from crm.sales.templates import customer_data
from engine.cron import CronJob
from engine.own_steps import plan_step, step_outcomes
from events.definitions import get_by_code, import_builtin
from events.ingestion import store_trusted

log = logging.getLogger("ckb.marketing")
EVENT_CODE = "crm.marketing_push"
SOURCE = "marketing"
SETTLE_DAYS = 7  # a run's counts are re-read from the ledger while its sends may still retry
UNFINISHED = ("pending", "failed", "running")


PRODUCT_LINE = "${product_name} ${product_price} ${product_link}"


def _config(template, product: dict | None = None) -> dict:
    body = template.body
    if product and "product_link" not in body:
        body = f"{body}\n{PRODUCT_LINE}"
    if template.channel == "email":
        return {"to": "${email}", "subject": template.subject, "body": body, "html": False}
    return {"mobile": "${mobile}", "content": body}


def _product(session, plan_id: int) -> tuple[dict | None, str]:
    """A product plan's ${product_*} values, or (None, why it cannot be pushed now); ({}, "") for a
    plan without a product."""
    plan = session.get(MarketingPlan, plan_id)
    if plan is None or plan.product_id is None:
        return {}, ""
    spu = session.get(ProductSpu, plan.product_id)
    live = sellable(session, [plan.product_id]).get(plan.product_id)
    if spu is None or live is None:
        return None, "推广商品已删除、下架或无库存，本次未发送"
    price = live[4]
    return {"product_name": spu.name, "product_price": f"¥{price // 100}.{price % 100:02d}",
            "product_link": spu.link_url or ""}, ""


def _product_audience(now, tz):
    def resolve(session, plan) -> list[int]:
        spu = session.get(ProductSpu, plan.product_id)
        if spu is None or spu.deleted_at is not None:
            return []
        return product_audience.customer_ids(session, spu.audience or {}, SYSTEM, now, tz)
    return resolve


def _prefix(plan_id: int, run_id: int) -> str:
    return f"mkt:{plan_id}:{run_id}"


def _plan_chunk(runtime, opened, template, processor, rows, tally: Tally, product: dict | None = None) -> None:
    """Stores one event per customer with a contact and plans its send, in one transaction."""
    services = runtime.services
    events, customers = [], []
    for customer, data in rows:
        contact = customer.email if template.channel == "email" else customer.mobile
        if not (contact or "").strip():
            tally.fail(customer.id, f"客户没有{'邮箱' if template.channel == 'email' else '手机号'}", "skipped")
            continue
        events.append({"event": EVENT_CODE, "id": str(customer.id), "data": {
            **data, "customer_id": customer.id, "plan_id": opened.plan_id, "run_id": opened.run_id,
            "channel": template.channel}})
        customers.append(customer.id)
    if not events:
        return
    prefix, now = _prefix(opened.plan_id, opened.run_id), services.now()
    with services.db.write() as s:
        if get_by_code(s, EVENT_CODE) is None:
            import_builtin(s, ["crm_marketing_push"])
        result = store_trusted(s, SOURCE, prefix, events, now, services.settings.timezone)
        for item in result.payload["accepted"]:
            plan_step(s, item["record_id"], f"定向营销（计划 #{opened.plan_id}，推送批次 #{opened.run_id}）", processor,
                      _config(template, product), f"{prefix}:{item['id']}", now, runtime.registry.max_attempts(processor.key))
        for item in result.payload["rejected"]:
            tally.fail(customers[item["index"]], "推送事件未通过校验：" + "；".join(e["message"] for e in item["errors"]))


def _from_ledger(runtime, plan_id: int, run_id: int, tally: Tally) -> int:
    """Fills sent / failed from the run's send steps; returns how many have not finished yet."""
    with runtime.services.db.read() as s:
        steps = step_outcomes(s, _prefix(plan_id, run_id) + ":")
    tally.sent = len(steps.get("done", []))
    for key, error in steps.get("dead", []):
        tally.fail(int(key.rsplit(":", 1)[1]), error or "发送失败")
    return sum(len(steps.get(status, [])) for status in UNFINISHED)


def run_plan(runtime, plan_id: int) -> str:
    """One due push of one plan; returns a one-line summary (or "" when it was not due)."""
    services = runtime.services
    tz, now = services.settings.timezone, services.now()
    with services.db.write() as s:
        opened = open_run(s, plan_id, now, tz, _product_audience(now, tz))
        product, refused = _product(s, plan_id) if opened is not None else ({}, "")
    if opened is None:
        return ""
    tally, waiting = Tally(), 0
    template = opened.template
    if template is None or not template.enabled:
        tally.failed = len(opened.customer_ids)
        tally.detail = [{"customer_id": None, "result": "failed", "reason": "消息模板已删除或已停用，本次未发送"}]
    elif product is None:
        tally.failed = len(opened.customer_ids)
        tally.detail = [{"customer_id": None, "result": "failed", "reason": refused}]
    else:
        processor = runtime.registry.get("sms" if template.channel == "sms" else "email")
        for start in range(0, len(opened.customer_ids), CHUNK):
            with services.db.read() as s:
                customers = load_customers(s, opened.customer_ids[start:start + CHUNK])
                rows = [(c, {**customer_data(s, c, tz), **product}) for c in customers]
            _plan_chunk(runtime, opened, template, processor, rows, tally, product)
        # Run the planned sends now (inline without a step pool, as in tests and the CLI); the
        # background sweep would pick them up within seconds anyway.
        runtime.submit(runtime.scheduler.sweep())
        waiting = _from_ledger(runtime, opened.plan_id, opened.run_id, tally)
    with services.db.write() as s:
        plan = close_run(s, opened, tally, services.now(), tz)
        name, next_at = plan.name, plan.next_run_at
    nxt = f"，下次 {format_local(next_at, tz_name=tz)}" if next_at else "，计划已结束"
    pending = f"，发送中 {waiting}" if waiting else ""
    return (f"「{name}」{'续推' if opened.retried else '推送'} {len(opened.customer_ids)} 人：成功 {tally.sent}，"
            f"失败 {tally.failed}，跳过 {tally.skipped}{pending}{nxt}")


def settle_runs(runtime) -> None:
    """推送历史 counts of recent runs whose sends were still running (retries) are read again."""
    services = runtime.services
    since = services.now() - timedelta(days=SETTLE_DAYS)
    with services.db.read() as s:
        runs = list(s.exec(select(MarketingRun).where(MarketingRun.ran_at >= since)))
    for run in runs:
        if run.sent + run.failed + run.skipped >= run.audience:
            continue
        kept = [d for d in run.detail or [] if d.get("result") == "skipped" or "推送事件" in d.get("reason", "")]
        tally = Tally(skipped=run.skipped, detail=kept, failed=sum(1 for d in kept if d.get("result") == "failed"))
        _from_ledger(runtime, run.plan_id, run.id, tally)
        with services.db.write() as s:
            save_progress(s, run.id, tally)


def run_due_plans(runtime) -> str:
    """The cron job: every plan whose next push time has come, oldest first."""
    settle_runs(runtime)
    with runtime.services.db.read() as s:
        ids = due_plan_ids(s, runtime.services.now())
    lines = [line for line in (run_plan(runtime, pid) for pid in ids) if line]
    return "；".join(lines) if lines else "没有到期的定向营销计划"


CRON_JOB = CronJob("marketing_plans", "定向营销推送", {"minute": "*"}, run_due_plans)
