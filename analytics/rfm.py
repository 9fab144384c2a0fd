"""RFM 客户分层: R (days since the last purchase), F (number of purchases), M (net amount paid, 分)
per customer, scored 1–5, and the eight classic segments.

Scoring. Each score is 1 + the number of cut points passed:
- R = 1 + #{cut : recency_days <= cut} (recent buyers score high);
- F = 1 + #{cut : order_count > cut}; M = 1 + #{cut : monetary_fen > cut}.
The four cut points per measure are, by default (mode "quintile"), the 20/40/60/80 % quantiles of that
day's buyers; an operator may instead fix them (mode "fixed", e.g. R 30/60/90/180 天). A score of
HIGH (3) or more is 高, below is 低, and (R, F, M) high/low picks the segment:

    重要价值 高高高 · 重要发展 高低高 · 重要保持 低高高 · 重要挽留(唤回) 低低高
    一般价值 高高低 · 一般发展 高低低 · 一般保持 低高低 · 一般挽留 低低低

Customers without a purchase get no segment. `refresh_scores` rebuilds customer_score (every customer:
also the lifecycle facts the funnel reads) and records the pass in rfm_run; analytics.snapshot runs it
nightly and on 重新计算, reusing the last pass's mode and cut points.
"""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import delete, func, insert, select
from sqlmodel import Session

from analytics import lifecycle
from analytics.errors import AnalyticsError
from analytics.score_models import CustomerScore, RfmRun
from config.clock import to_local, utcnow
from crm.customers.models import Customer

HIGH = 3
CHUNK = 2000
# key → (label, R high, F high, M high); keys are stored in customer_score.segment
SEGMENTS: dict[str, tuple[str, bool, bool, bool]] = {
    "important_value": ("重要价值客户", True, True, True),
    "important_develop": ("重要发展客户", True, False, True),
    "important_keep": ("重要保持客户", False, True, True),
    "important_retain": ("重要挽留客户", False, False, True),
    "general_value": ("一般价值客户", True, True, False),
    "general_develop": ("一般发展客户", True, False, False),
    "general_keep": ("一般保持客户", False, True, False),
    "general_retain": ("一般挽留客户", False, False, False),
}
ALIASES = {"important_retain": "重要唤回客户"}
MODES = {"quintile": "按五分位自动分档", "fixed": "固定分界点"}
_BY_FLAGS = {(r, f, m): key for key, (_, r, f, m) in SEGMENTS.items()}


def segment_for(r: int, f: int, m: int) -> str:
    return _BY_FLAGS[(r >= HIGH, f >= HIGH, m >= HIGH)]


def quintile_cuts(values: list[int]) -> list[int]:
    ordered = sorted(values)
    if not ordered:
        return [0, 0, 0, 0]
    return [ordered[min(len(ordered) - 1, int(len(ordered) * q))] for q in (0.2, 0.4, 0.6, 0.8)]


def score_recency(days: int, cuts: list[int]) -> int:
    return 1 + sum(1 for c in cuts if days <= c)


def score_amount(value: int, cuts: list[int]) -> int:
    return 1 + sum(1 for c in cuts if value > c)


def clean_cuts(mode: str, raw: Optional[dict]) -> dict:
    """Validates an operator's choice: mode, and for "fixed" four ascending non-negative integers per
    measure (M in 分)."""
    if mode not in MODES:
        raise AnalyticsError("分档方式无效", {"mode": "分档方式只能是五分位或固定分界点"})
    if mode == "quintile":
        return {"mode": "quintile"}
    out, errors = {"mode": "fixed"}, {}
    for key, label in (("r", "R（天）"), ("f", "F（次）"), ("m", "M（分）")):
        try:
            cuts = [int(v) for v in (raw or {}).get(key) or []]
        except (TypeError, ValueError):
            cuts = []
        if len(cuts) != 4 or any(c < 0 for c in cuts) or cuts != sorted(cuts):
            errors[key] = f"{label} 需要 4 个从小到大的非负整数"
        out[key] = cuts
    if errors:
        raise AnalyticsError("分界点有误", errors)
    return out


def last_run(session: Session) -> Optional[RfmRun]:
    return session.execute(select(RfmRun).order_by(RfmRun.id.desc()).limit(1)).scalars().first()


def refresh_scores(session: Session, now: Optional[datetime] = None, tz: Optional[str] = None,
                   cuts: Optional[dict] = None, triggered_by: Optional[int] = None) -> RfmRun:
    """Rebuilds customer_score for every customer; `cuts` (from clean_cuts) or the last pass's choice."""
    now = now or utcnow()
    if cuts is None:
        previous = last_run(session)
        cuts = dict(previous.cuts) if previous and previous.cuts.get("mode") == "fixed" else {"mode": "quintile"}
    today = to_local(now, tz).date()
    contacts, leads = lifecycle.first_contacts(session), lifecycle.first_leads(session)
    bought: dict[int, list] = {}  # cid → [first, second, last, count, amount]
    for cid, paid_at, amount in lifecycle.purchases(session):
        row = bought.get(cid)
        if row is None:
            bought[cid] = [paid_at, None, paid_at, 1, amount]
        else:
            if row[1] is None:
                row[1] = paid_at
            row[2], row[3], row[4] = paid_at, row[3] + 1, row[4] + amount
    recency = {cid: (today - to_local(row[2], tz).date()).days for cid, row in bought.items()}
    if cuts["mode"] == "quintile":
        cuts = {"mode": "quintile", "r": quintile_cuts(list(recency.values())),
                "f": quintile_cuts([r[3] for r in bought.values()]), "m": quintile_cuts([r[4] for r in bought.values()])}
    session.execute(delete(CustomerScore))
    ids = session.execute(select(Customer.id).order_by(Customer.id)).scalars().all()
    batch: list[dict] = []
    for cid in ids:
        contact, (channel_id, scene_id), row = contacts.get(cid), leads.get(cid, (None, None)), bought.get(cid)
        rec = {"customer_id": cid, "first_contact_at": contact,
               "contact_month": to_local(contact, tz).strftime("%Y-%m") if contact else "",
               "channel_id": channel_id, "scene_id": scene_id, "first_order_at": None, "second_order_at": None,
               "last_order_at": None, "order_count": 0, "monetary_fen": 0, "recency_days": None,
               "r_score": 0, "f_score": 0, "m_score": 0, "segment": "", "computed_at": now}
        if row is not None:
            r, f, m = (score_recency(recency[cid], cuts["r"]), score_amount(row[3], cuts["f"]),
                       score_amount(row[4], cuts["m"]))
            rec.update(first_order_at=row[0], second_order_at=row[1], last_order_at=row[2], order_count=row[3],
                       monetary_fen=row[4], recency_days=recency[cid], r_score=r, f_score=f, m_score=m,
                       segment=segment_for(r, f, m))
        batch.append(rec)
        if len(batch) >= CHUNK:
            session.execute(insert(CustomerScore), batch)
            batch = []
    if batch:
        session.execute(insert(CustomerScore), batch)
    run = RfmRun(computed_at=now, customers=len(ids), buyers=len(bought), cuts=cuts, triggered_by=triggered_by)
    session.add(run)
    session.flush()
    return run


def summary(session: Session, where=None) -> list[dict]:
    """Per segment: customers, total net amount, average R/F/M; `where` narrows customer_score
    (a viewer's scope), e.g. CustomerScore.customer_id.in_(visible ids)."""
    stmt = (select(CustomerScore.segment, func.count(), func.coalesce(func.sum(CustomerScore.monetary_fen), 0),
                   func.avg(CustomerScore.recency_days), func.avg(CustomerScore.order_count))
            .where(CustomerScore.segment != "").group_by(CustomerScore.segment))
    if where is not None:
        stmt = stmt.where(where)
    found = {seg: (int(n), int(amount), rec, freq) for seg, n, amount, rec, freq in session.execute(stmt)}
    out = []
    for key, (label, r_high, f_high, m_high) in SEGMENTS.items():
        n, amount, rec, freq = found.get(key, (0, 0, None, None))
        out.append({"key": key, "label": label, "alias": ALIASES.get(key, ""), "r_high": r_high, "f_high": f_high,
                    "m_high": m_high, "customers": n, "amount_fen": amount,
                    "avg_recency_days": round(float(rec), 1) if rec is not None else None,
                    "avg_orders": round(float(freq), 2) if freq is not None else None})
    return out
