"""付款码获客: a marketer makes a payment code (微信支付 or 支付宝, a fixed price such as 9.9 元体验课 or
an amount the payer types) for a scene, a channel and a plan, and prints its QR. Every paid
callback becomes a 支付记录 and a lead of that scene: the lead pipeline then finds the payer among
existing customers (a deal of a known customer) or creates a prospect, tags and assigns as usual.

The real payment happens on the platform; its paid notification reaches the wechat_pay/alipay
webhooks, which call `record_payment`. Platforms resend a notification until they get their
"success" answer, so a trade number is recorded once and a resend answers the same lead.
"""
from __future__ import annotations

import re
from datetime import datetime
from dataclasses import dataclass
from typing import Optional

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from config.clock import as_utc, utcnow
from config.db import Database
from crm.leads.errors import LeadsError, SubmissionRefused
from crm.leads.intake import Submission, dead_letter, submit
from crm.leads.models import Lead, LeadScene, PaymentCode, PaymentRecord
from crm.leads.posters import check_links, clean_text, find_by_token, get_row, new_token, store

PROVIDERS = {"wechat_pay": "微信支付", "alipay": "支付宝"}
PAYMENT_SCENE_TYPES = ("PAYMENT_CODE",)
MAX_AMOUNT = 1_000_000  # yuan; a larger fixed price is a typo (分 entered as 元)
TRADE_NO_RE = re.compile(r"^[A-Za-z0-9_\-|*]{1,64}$")


@dataclass
class PaymentOutcome:
    lead_id: Optional[int]  # None when the submission was refused (it is in 线索死信 with the reason)
    customer_id: Optional[int]  # known once the pipeline identified the payer
    duplicate: bool  # this trade number was recorded before: nothing new was counted


def _amount(value, field: str = "amount") -> Optional[float]:
    if value in (None, ""):
        return None
    try:
        amount = round(float(str(value).strip()), 2)
    except ValueError:
        raise LeadsError("金额无效", {field: "金额应为数字，单位：元"})
    if not 0 < amount <= MAX_AMOUNT:
        raise LeadsError("金额无效", {field: f"金额应大于 0 且不超过 {MAX_AMOUNT:,} 元"})
    return amount


def _params(value) -> dict:
    """Scene parameters carried by the code (活动、门店、批次 …): a flat dict of short strings."""
    if value in (None, "", {}):
        return {}
    if isinstance(value, str):  # the console posts "key=value" lines
        out = {}
        for line in value.splitlines():
            if not line.strip():
                continue
            key, sep, val = line.partition("=")
            if not sep or not key.strip():
                raise LeadsError("参数格式错误", {"params": f"「{line.strip()[:30]}」应为 键=值"})
            out[key.strip()] = val.strip()
        value = out
    if not isinstance(value, dict):
        raise LeadsError("参数格式错误", {"params": "参数应为 键=值，每行一个"})
    if len(value) > 20 or any(len(str(k)) > 32 or len(str(v)) > 200 for k, v in value.items()):
        raise LeadsError("参数过多或过长", {"params": "最多 20 个参数，键不超过 32 字、值不超过 200 字"})
    return {str(k): str(v) for k, v in value.items()}


def create_code(session: Session, data: dict) -> PaymentCode:
    """A new payment code; LeadsError names the bad field."""
    scene, channel_id, plan_id = check_links(session, data, PAYMENT_SCENE_TYPES)
    title = clean_text(data, "title", "付款码名称", 100, required=True)
    provider = str(data.get("provider") or "").strip()
    if provider not in PROVIDERS:
        raise LeadsError("请选择支付方式", {"provider": "请选择微信支付或支付宝"})
    fixed = str(data.get("amount_mode") or ("fixed" if data.get("amount") not in (None, "") else "open"))
    amount = _amount(data.get("amount"))
    if fixed == "fixed" and amount is None:
        raise LeadsError("请填写固定金额", {"amount": "固定金额的付款码需要填写金额"})
    return store(session, PaymentCode(token=new_token(session, PaymentCode), scene_id=scene.id, channel_id=channel_id,
                                      plan_id=plan_id, title=title, provider=provider,
                                      amount=amount if fixed == "fixed" else None, params=_params(data.get("params"))))


def get_code(session: Session, code_id: int) -> PaymentCode:
    return get_row(session, PaymentCode, code_id, "付款码不存在或已删除")


def code_by_token(session: Session, token: str) -> Optional[PaymentCode]:
    return find_by_token(session, PaymentCode, token)


def list_codes(session: Session, *, scene_id: Optional[int] = None, active_only: bool = False) -> list[PaymentCode]:
    stmt = select(PaymentCode).order_by(col(PaymentCode.id).desc())
    if scene_id:
        stmt = stmt.where(PaymentCode.scene_id == scene_id)
    if active_only:
        stmt = stmt.where(PaymentCode.is_active == True)  # noqa: E712
    return list(session.exec(stmt))


def set_active(session: Session, code_id: int, active: bool) -> PaymentCode:
    """停用 keeps the code and its records; a payment reaching a stopped code is refused."""
    code = get_code(session, code_id)
    code.is_active = active
    session.add(code)
    return code


def record_scan(session: Session, token: str) -> Optional[PaymentCode]:
    """Counts one opening of the payment landing page; None for an unknown token."""
    code = code_by_token(session, token)
    if code is not None:
        session.exec(update(PaymentCode).where(PaymentCode.id == code.id).values(scans=PaymentCode.scans + 1))
    return code


def list_records(session: Session, code: PaymentCode, limit: int = 200) -> list[tuple[PaymentRecord, Optional[int], Optional[int]]]:
    """支付记录 of a code, newest first, each with its lead and customer. The lead is found by the
    trade number (its external id in the code's scene), so a payment first refused and later
    re-driven from 线索死信 still shows its lead; the customer is known once the pipeline ran."""
    stmt = (select(PaymentRecord, Lead.id, Lead.customer_id)
            .join(Lead, (Lead.scene_id == code.scene_id) & (col(Lead.external_id) == PaymentRecord.trade_no), isouter=True)
            .where(PaymentRecord.payment_code_id == code.id)
            .order_by(col(PaymentRecord.paid_at).desc(), col(PaymentRecord.id).desc()).limit(limit))
    return [(record, record.lead_id or lead_id, record.customer_id or customer_id)
            for record, lead_id, customer_id in session.exec(stmt)]


def _existing(db: Database, trade_no: str) -> Optional[PaymentOutcome]:
    with db.read() as session:
        record = session.exec(select(PaymentRecord).where(PaymentRecord.trade_no == trade_no)).first()
        if record is None:
            return None
        return PaymentOutcome(record.lead_id, record.customer_id or _lead_customer(session, record.lead_id), True)


def _lead_customer(session: Session, lead_id: Optional[int]) -> Optional[int]:
    lead = session.get(Lead, lead_id) if lead_id else None
    return lead.customer_id if lead is not None else None


def _checked_code(db: Database, provider: str, token: str, amount_yuan) -> tuple[PaymentCode, float]:
    if provider not in PROVIDERS:
        raise LeadsError("不支持的支付渠道", {"provider": "支付渠道应为微信支付或支付宝"})
    amount = _amount(amount_yuan)
    if amount is None:
        raise LeadsError("金额无效", {"amount": "支付金额缺失"})
    with db.read() as session:
        code = code_by_token(session, token)
        scene = session.get(LeadScene, code.scene_id) if code is not None else None
        if code is None or not code.is_active or scene is None:
            raise LeadsError("付款码不存在或已停用", {"token": "付款码不存在或已停用"})
        if code.provider != provider:
            raise LeadsError("付款码与支付渠道不符", {"provider": f"该付款码只接受{PROVIDERS[code.provider]}"})
        session.expunge(code)
    return code, amount


def record_payment(db: Database, *, provider: str, token: str, trade_no: str, amount_yuan, payer: str = "",
                   mobile: Optional[str] = None, raw: Optional[dict] = None, tz: str | None = None,
                   paid_at: Optional[datetime] = None) -> PaymentOutcome:
    """Records one paid notification and turns it into a lead of the code's scene.

    Order matters for a crash between the steps: the lead is submitted first with the trade number
    as its external id (idempotent per scene), then the record and the code's counters are written
    together. A resend after a crash finds the same lead and writes the record once; a resend
    after success answers `duplicate` without counting the money twice. `paid_at` is the platform's
    payment time (success_time / gmt_payment); the receipt time only when the platform sent none."""
    trade_no = str(trade_no or "").strip()
    if not TRADE_NO_RE.match(trade_no):
        raise LeadsError("交易单号无效", {"trade_no": "交易单号缺失或格式不正确"})
    seen = _existing(db, trade_no)
    if seen is not None:
        return seen
    code, amount = _checked_code(db, provider, token, amount_yuan)
    payer = str(payer or "")[:128]
    lead_id = _submit(db, code, trade_no, amount, payer, mobile, tz)
    try:
        with db.write() as session:
            session.add(PaymentRecord(payment_code_id=code.id, provider=provider, trade_no=trade_no, amount=amount,
                                      payer=payer, mobile=(str(mobile)[:32] if mobile else None), lead_id=lead_id,
                                      paid_at=as_utc(paid_at) if paid_at else utcnow(),
                                      customer_id=_lead_customer(session, lead_id), raw=raw or {}))
            session.flush()  # the unique trade number is checked here, before the counters move
            session.exec(update(PaymentCode).where(PaymentCode.id == code.id).values(
                paid_count=PaymentCode.paid_count + 1, paid_total=PaymentCode.paid_total + amount))
    except IntegrityError:  # the same notification delivered twice at once: the other one won
        seen = _existing(db, trade_no)
        if seen is None:
            raise
        return seen
    with db.read() as session:
        return PaymentOutcome(lead_id, _lead_customer(session, lead_id), False)


def _submit(db: Database, code: PaymentCode, trade_no: str, amount: float, payer: str, mobile, tz: str) -> Optional[int]:
    raw = {**code.params, "value": amount, "mobile": mobile or "", "payer": payer, "payment_code": code.title,
           "product": code.title, "provider": PROVIDERS[code.provider], "trade_no": trade_no}
    submission = Submission(raw=raw, external_id=trade_no, source="payment", channel_id=code.channel_id,
                            plan_id=code.plan_id, meta={"payment_code_id": code.id, "payment_token": code.token})
    result = submit(db, code.scene_id, [submission], tz=tz)[0]
    if isinstance(result, SubmissionRefused):
        # The money arrived all the same: the payment is recorded and the submission waits in
        # 线索死信 until the scene's rules are fixed (e.g. a scene that demands a phone number).
        with db.write() as session:
            dead_letter(session, code.scene_id, "payment", submission, result.message, result.errors)
        return None
    return result.lead_id
