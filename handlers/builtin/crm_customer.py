"""客户类处理器的共同部分: finding the customer an event is about, and doing a step only once.

Every CRM step (打标签, 移入分组, 分配, 建任务, 发模板消息, 通知负责人) first finds the customer from
the event: by customer id, else by mobile number (written the way customers are stored:
11 digits, no +86), else by e-mail. Each comes from a step setting that may use ${变量}; left
empty it reads the event's own customerId / customer_id, mobile and email fields. When nobody
matches, the step stops with "未找到客户：…" naming what was looked for, so 事件历史 says why.

Events arrive out of order: the write transaction acts as of the event's occurred_at
(handlers.builtin.event_order.act_for_event), so what it changes is stamped with when the event happened, and a
step whose change a later one already decided skips it and says 已被更晚发生的事件取代.

Doing a step only once: the effect and a 成长记录 line ("策略 #3：添加标签 VIP（步骤 12:3:0）")
are written in one transaction, and a step whose key is already in the customer's growth
record returns without acting again — a retried or re-run step never double-creates tasks or
notifications.
"""
from __future__ import annotations

from abc import abstractmethod
from typing import Optional

from sqlmodel import Session, col, select

from config.pii import mask_email, mask_mobile
from config.pii_column import blind_index
from crm.customers.models import Customer, GrowthRecord
from crm.customers.normalize import BadContact, normalize_email, normalize_mobile
from crm.errors import CrmError
from events.placeholders import PlaceholderError, render_message
from handlers.base import ConfigField, Outcome, Processor, ProcessorContext
from handlers.builtin.event_order import act_for_event
from handlers.builtin.http import DRY_RUN_NOTE
from handlers.errors import PermanentError

LOOKUP_FIELDS = (
    ConfigField("customer_id", "客户ID取值", help="可填 ${字段}；留空时使用事件中的 customerId 或 customer_id 字段"),
    ConfigField("mobile", "手机号取值", help="按客户ID找不到时按手机号查找；留空时使用事件中的 mobile 字段"),
    ConfigField("email", "邮箱取值", help="按客户ID和手机号都找不到时按邮箱查找；留空时使用事件中的 email 字段"),
)
# Event fields read when the matching setting is empty (CRM events use both spellings).
_DEFAULT_FIELDS = {"customer_id": ("customerId", "customer_id"), "mobile": ("mobile",), "email": ("email",)}
_KEY_LABELS = {"customer_id": "客户ID", "mobile": "手机号", "email": "邮箱"}
ALREADY_DONE = "此步骤已执行过（见客户成长记录），未重复执行"


def render_config(text, data: dict) -> str:
    """A step setting with ${变量} filled; a missing variable is a permanent, named failure."""
    try:
        return str(render_message(str(text or ""), data)).strip()
    except PlaceholderError as exc:
        raise PermanentError(f"变量替换失败：{exc}") from exc


def lookup_keys(ctx: ProcessorContext, config: dict) -> list[tuple[str, str]]:
    """[(kind, value)] in search order, from the step settings or the event's own fields."""
    keys = []
    for kind, fallbacks in _DEFAULT_FIELDS.items():
        configured = config.get(kind)
        if configured not in (None, ""):
            value = render_config(configured, ctx.data)
        else:
            value = next((str(ctx.data[f]).strip() for f in fallbacks if ctx.data.get(f) not in (None, "")), "")
        if value:
            keys.append((kind, value))
    return keys


def shown_key(kind: str, value: str) -> str:
    """How a lookup value appears in history: contact details masked like everywhere else."""
    return mask_mobile(value) if kind == "mobile" else mask_email(value) if kind == "email" else value


def describe_keys(keys: list[tuple[str, str]]) -> str:
    return "、".join(f"{_KEY_LABELS[k]}「{shown_key(k, v)}」" for k, v in keys)


def find_customer(session: Session, keys: list[tuple[str, str]]) -> Customer:
    if not keys:
        raise PermanentError("未找到客户：事件数据中没有客户ID、手机号或邮箱（可在步骤的「客户ID取值/手机号取值/邮箱取值」中指定）")
    for kind, value in keys:
        customer = _find_one(session, kind, value)
        if customer is not None:
            return customer
    raise PermanentError(f"未找到客户：{describe_keys(keys)}都没有匹配的客户")


def _find_one(session: Session, kind: str, value: str) -> Optional[Customer]:
    if kind == "customer_id":
        text = value[:-2] if value.endswith(".0") else value  # numbers may arrive as 12.0
        return session.get(Customer, int(text)) if text.isdigit() else None
    try:
        clean = normalize_mobile(value) if kind == "mobile" else normalize_email(value)
    except BadContact:
        return None
    column = Customer.mobile_bidx if kind == "mobile" else Customer.email_bidx
    return session.exec(select(Customer).where(column == blind_index(kind, clean)).order_by(
        # An active customer wins over one in the recycle bin holding the same number.
        col(Customer.status) != "active", Customer.id).limit(1)).first()


def customer_label(customer: Customer) -> str:
    return f"「{customer.name or '#' + str(customer.id)}」"


def _marker(ctx: ProcessorContext) -> str:
    return f"（步骤 {ctx.idempotency_key}）"


def already_done(session: Session, ctx: ProcessorContext, customer_id: int) -> bool:
    """Has this step (same idempotency key) already acted on this customer?"""
    return session.exec(select(GrowthRecord.id).where(
        GrowthRecord.customer_id == customer_id, GrowthRecord.kind == "strategy",
        col(GrowthRecord.summary).endswith(_marker(ctx), autoescape=True)).limit(1)).first() is not None


def mark_done(session: Session, ctx: ProcessorContext, customer_id: int, what: str) -> None:
    """The 成长记录 line that shows the strategy touched the customer and marks the step done."""
    marker = _marker(ctx)
    summary = f"策略 #{ctx.strategy_id}：{what}"[:500 - len(marker)] + marker
    session.add(GrowthRecord(customer_id=customer_id, kind="strategy", summary=summary,
                             created_at=ctx.services.now()))


class CustomerStep(Processor):
    """A step acting on the event's customer. Subclasses add their own settings after
    LOOKUP_FIELDS, check them in `settings` and act in `apply` (inside one write transaction)."""

    @abstractmethod
    def settings(self, ctx: ProcessorContext, config: dict, session: Session) -> dict:
        """The step's own settings, rendered and checked (PermanentError when unusable)."""

    @abstractmethod
    def apply(self, ctx: ProcessorContext, session: Session, customer: Customer, step: dict) -> Outcome:
        """Does the effect for one customer; `mark_done` is written by the caller afterwards."""

    def summary(self, step: dict, outcome: Outcome) -> str:
        """The growth-record text; the outcome's note by default."""
        return outcome.note

    def render(self, ctx: ProcessorContext, config: dict) -> dict:
        with ctx.services.db.read() as session:
            step = self.settings(ctx, config, session)
        return {"customer": describe_keys(lookup_keys(ctx, config)), **step}

    def prepare(self, ctx: ProcessorContext, step: dict, customer: Customer) -> dict:
        """Work that must happen outside the write transaction (e.g. a read-only SQL audience)."""
        return step

    def run(self, ctx: ProcessorContext, config: dict) -> Outcome:
        keys = lookup_keys(ctx, config)
        try:
            with ctx.services.db.read() as session:
                step = self.settings(ctx, config, session)
                found = find_customer(session, keys)
            if ctx.dry_run:
                return Outcome(request=self._shown(found, step), note=DRY_RUN_NOTE)
            step = self.prepare(ctx, step, found)
            with ctx.services.db.write() as session:
                act_for_event(ctx, session)
                customer = session.get(Customer, found.id)
                shown = self._shown(customer, step)
                if already_done(session, ctx, customer.id):
                    return Outcome(request=shown, response={"customer_id": customer.id, "repeated": True},
                                   note=ALREADY_DONE)
                outcome = self.apply(ctx, session, customer, step)
                outcome.request = {**shown, **outcome.request}
                outcome.response = {"customer_id": customer.id, **outcome.response}
                mark_done(session, ctx, customer.id, self.summary(step, outcome))
        except CrmError as exc:
            # A refusal by the customer center (auto tag, not a group member…) will not change on retry.
            raise PermanentError(exc.message) from exc
        return outcome

    @staticmethod
    def _shown(customer: Customer, step: dict) -> dict:
        return {"customer_id": customer.id, "customer_name": customer.name, **step}
