"""短信推送 on the ledger: the texts crm.sales.sms_push prepared go out through the one SMS
processor — its outbox, provider and per-number caps (handlers.sms_caps) — exactly like a
strategy's or 定向营销's.

One `crm.sms_push` event per customer is stored by the one ingestion door (event id = the customer,
deduplicated within the push, whose id the form chose when it was opened: a double click or a
re-post plans nobody twice), with one planned send step keyed smspush:<push>:<customer>. The
sends run at once (inline sweep); the report reads each customer's step back from the ledger:
sent, deferred by a cap (with when), or refused with the reason.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select as sa_select
from sqlmodel import col, select

from crm.customers.models import Customer
from crm.sales.sms_push import Prepared
from crm.scope import Viewer, customers as customer_scope
from engine.own_steps import plan_step, step_outcomes
from events.definitions import ensure_builtin
from events.ingestion import store_trusted
from events.models import EventRecord

EVENT_CODE = "crm.sms_push"
SOURCE = "console"
CONFIG = {"mobile": "${mobile}", "content": "${content}"}  # the text was rendered at prepare time
STATUS_LABELS = {"done": ("sent", "已发送"), "dead": ("refused", "已拒绝"), "cancelled": ("refused", "已取消"),
                 "failed": ("waiting", "发送失败，将重试"), "running": ("waiting", "发送中"),
                 "pending": ("waiting", "排队中")}


@dataclass
class PushReport:
    token: str
    rows: list[dict] = field(default_factory=list)  # {"customer_id", "name", "result", "label", "reason"}

    def count(self, result: str) -> int:
        return sum(1 for r in self.rows if r["result"] == result)


def _prefix(token: str) -> str:
    return f"smspush:{token}"


def send(runtime, prepared: Prepared, token: str, sender_id: int) -> PushReport:
    """Plans one send per prepared message, runs them, and reports every customer (refused ones
    first, with their reasons)."""
    services = runtime.services
    now, prefix = services.now(), _prefix(token)
    processor = runtime.registry.get("sms")
    events = [{"event": EVENT_CODE, "id": str(m.customer_id), "data": {
        "customer_id": m.customer_id, "push": token, "sender_id": sender_id, "template": prepared.template.name,
        "name": m.name, "mobile": m.mobile, "content": m.content}} for m in prepared.messages]
    rejected = []
    if events:
        with services.db.write() as s:
            ensure_builtin(s, ["crm_sms_push"])
            result = store_trusted(s, SOURCE, prefix, events, now, services.settings.timezone)
            for item in result.payload["accepted"]:
                plan_step(s, item["record_id"], f"短信推送（模板「{prepared.template.name}」）", processor, CONFIG,
                          f"{prefix}:{item['id']}", now, runtime.registry.max_attempts(processor.key))
            rejected = [(prepared.messages[item["index"]], "；".join(e["message"] for e in item["errors"]))
                        for item in result.payload["rejected"]]
        runtime.submit(runtime.scheduler.sweep())
    report = PushReport(token, [{"customer_id": r["customer_id"], "name": r["name"], "result": "refused",
                                 "label": "未发送", "reason": r["reason"]} for r in prepared.refused])
    report.rows += [{"customer_id": m.customer_id, "name": m.name, "result": "refused", "label": "未发送",
                     "reason": reason} for m, reason in rejected]
    report.rows += report_of(runtime, token, Viewer(None, system=True)).rows
    return report


def report_of(runtime, token: str, viewer: Viewer) -> PushReport:
    """The ledger's state of every send of a push, for the customers `viewer` may see."""
    prefix = _prefix(token)
    with runtime.services.db.read() as s:
        steps = step_outcomes(s, prefix + ":")
        by_customer = {}
        for status, rows in steps.items():
            for key, error in rows:
                by_customer[int(key.rsplit(":", 1)[1])] = (status, error or "")
        names = {cid: name for cid, name in s.execute(sa_select(Customer.id, Customer.name).where(
            col(Customer.id).in_(list(by_customer)), customer_scope(viewer))).all()} if by_customer else {}
    report = PushReport(token)
    for cid, (status, error) in sorted(by_customer.items()):
        if cid not in names:
            continue
        result, label = STATUS_LABELS.get(status, ("waiting", status))
        if status == "pending" and error:
            label = "已延后"  # a per-number cap: the step waits for room, the reason says until when
        report.rows.append({"customer_id": cid, "name": names[cid] or f"#{cid}", "result": result, "label": label,
                            "reason": error if result != "sent" else ""})
    return report


def exists(runtime, token: str) -> bool:
    with runtime.services.db.read() as s:
        return s.exec(select(EventRecord.id).where(
            col(EventRecord.dedupe_key).startswith(_prefix(token) + ":", autoescape=True)).limit(1)).first() is not None
