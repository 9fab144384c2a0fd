"""Every dashboard number as a set of customers: a Segment (what was clicked, with the page's filters)
→ a SQLAlchemy clause on Customer, always intersected with the viewer's scope (crm/scope.py) and
without the recycle bin. The drill-down list, its export, 保存为客户查询 and 批量打标签 all use it.

Kinds:
- customers  every customer the viewer may see (总用户数 → its customer part)
- contacts   first contact (加好友/入群) within [start, end]
- buyers     a purchase paid within [start, end] (GMV, 成交人数), narrowed by channel / scene / staff
             (the order's 业绩归属) / group (the customer is in that WeChat group)
- funnel     step contact | first | repeat, narrowed by channel / scene / group / cohort month
- cohort     contacted in month `cohort`, with a purchase in the month `offset` months later
- rfm        RFM segment `key` (analytics.rfm.SEGMENTS)

Segment fields come from query parameters (parse) and go back into them (params), so a link on a
chart, the list, the export and the API all carry the same filters.
"""
from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import date, datetime, timedelta
from typing import Mapping, Optional

from sqlalchemy import and_, false, func, select, true, union
from sqlmodel import Session

from analytics import lifecycle, rfm
from analytics.errors import AnalyticsError
from analytics.score_models import CustomerScore
from commerce.orders.models import SalesOrder
from config.clock import from_local
from crm import scope
from crm.customers.models import Customer
from devices.models import ChatGroupMember, Friend

KINDS = {"customers": "全部客户", "contacts": "新增触达客户", "buyers": "成交客户", "funnel": "漏斗步骤",
         "cohort": "同期群", "rfm": "RFM 分层"}
STEPS = {"contact": "入群/加好友", "first": "首购", "repeat": "复购"}
MAX_RANGE_DAYS = 366
FILTER_ARGS = ("start", "end", "channel_id", "scene_id", "staff_id", "group_id", "cohort")


@dataclass(frozen=True)
class Segment:
    kind: str = "customers"
    key: str = ""  # rfm segment key
    step: str = ""  # funnel step
    start: Optional[date] = None
    end: Optional[date] = None
    channel_id: Optional[int] = None
    scene_id: Optional[int] = None
    staff_id: Optional[int] = None
    group_id: Optional[int] = None
    cohort: str = ""  # YYYY-MM
    offset: Optional[int] = None

    def params(self) -> dict:
        """Query parameters that parse() turns back into this segment (empty fields left out)."""
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value not in (None, ""):
                out[f.name] = value.isoformat() if isinstance(value, date) else value
        return out

    def label(self) -> str:
        if self.kind == "rfm":
            return rfm.SEGMENTS[self.key][0]
        if self.kind == "funnel":
            return f"漏斗：{STEPS[self.step]}"
        if self.kind == "cohort":
            return f"{self.cohort} 同期群第 {self.offset} 月购买"
        return KINDS[self.kind]


def _int(raw, name: str, errors: dict) -> Optional[int]:
    if raw in (None, ""):
        return None
    try:
        value = int(raw)
    except (TypeError, ValueError):
        errors[name] = "应为整数"
        return None
    if not 0 <= value < 2 ** 31:
        errors[name] = "超出范围"
        return None
    return value


def _month(raw, name: str, errors: dict) -> str:
    raw = (raw or "").strip()
    if not raw:
        return ""
    try:
        datetime.strptime(raw, "%Y-%m")
    except ValueError:
        errors[name] = "月份格式应为 2026-11"
        return ""
    return raw


def parse_range(args: Mapping, default_end: date, default_days: int = 30) -> tuple[date, date, dict]:
    """start/end (YYYY-MM-DD, Beijing days) or the last `default_days` days up to default_end."""
    errors: dict = {}
    try:
        end = date.fromisoformat(args.get("end") or default_end.isoformat())
        start = date.fromisoformat(args.get("start") or (end - timedelta(days=default_days - 1)).isoformat())
    except ValueError:
        errors["start"] = "请输入正确的日期（如 2026-11-01）"
        end, start = default_end, default_end - timedelta(days=default_days - 1)
    if start > end:
        errors["start"] = "开始日期不能晚于结束日期"
    elif (end - start).days >= MAX_RANGE_DAYS:
        errors["start"] = f"统计区间最长 {MAX_RANGE_DAYS} 天"
    return start, end, errors


def parse(args: Mapping, default_end: date) -> Segment:
    """A Segment from query parameters; AnalyticsError (422) naming every bad one."""
    errors: dict = {}
    kind = args.get("kind") or "customers"
    if kind not in KINDS:
        errors["kind"] = "未知的数据口径"
    key, step = args.get("key") or "", args.get("step") or ""
    if kind == "rfm" and key not in rfm.SEGMENTS:
        errors["key"] = "未知的 RFM 分层"
    if kind == "funnel" and step not in STEPS:
        errors["step"] = "漏斗步骤只能是 入群/加好友、首购、复购"
    start = end = None
    if kind in ("contacts", "buyers"):
        start, end, range_errors = parse_range(args, default_end)
        errors.update(range_errors)
    seg = Segment(kind=kind, key=key if kind == "rfm" else "", step=step if kind == "funnel" else "",
                  start=start, end=end, channel_id=_int(args.get("channel_id"), "channel_id", errors),
                  scene_id=_int(args.get("scene_id"), "scene_id", errors),
                  staff_id=_int(args.get("staff_id"), "staff_id", errors),
                  group_id=_int(args.get("group_id"), "group_id", errors),
                  cohort=_month(args.get("cohort"), "cohort", errors),
                  offset=_int(args.get("offset"), "offset", errors))
    if kind == "cohort" and (not seg.cohort or seg.offset is None):
        errors.setdefault("cohort", "同期群需要月份与第几个月")
    if errors:
        raise AnalyticsError("筛选条件有误", errors)
    return seg


def local_bounds(start: date, end: date, tz: Optional[str] = None) -> tuple[datetime, datetime]:
    """UTC instants of start 00:00 and (end + 1) 00:00 in the configured zone."""
    return (from_local(datetime(start.year, start.month, start.day), tz),
            from_local(datetime(end.year, end.month, end.day) + timedelta(days=1), tz))


def month_bounds(month: str, offset: int = 0, tz: Optional[str] = None) -> tuple[datetime, datetime]:
    year, mon = (int(p) for p in month.split("-"))
    index = year * 12 + mon - 1 + offset
    first = datetime(index // 12, index % 12 + 1, 1)
    nxt = datetime((index + 1) // 12, (index + 1) % 12 + 1, 1)
    return from_local(first, tz), from_local(nxt, tz)


def group_customers(group_id: int):
    """SELECT customer ids in WeChat group `group_id` (by their wechat_id or a linked friend's wxid)."""
    direct = select(Customer.id).join(ChatGroupMember, ChatGroupMember.wxid == Customer.wechat_id) \
        .where(ChatGroupMember.group_id == group_id)
    via_friend = select(Friend.customer_id).join(ChatGroupMember, ChatGroupMember.wxid == Friend.wxid) \
        .where(ChatGroupMember.group_id == group_id, Friend.customer_id.is_not(None))
    return union(direct, via_friend)


def score_filters(seg: Segment) -> list:
    """Clauses on CustomerScore for the funnel / cohort filters (channel, scene, group, cohort month)."""
    out = []
    if seg.channel_id is not None:
        out.append(CustomerScore.channel_id == seg.channel_id)
    if seg.scene_id is not None:
        out.append(CustomerScore.scene_id == seg.scene_id)
    if seg.group_id is not None:
        out.append(CustomerScore.customer_id.in_(group_customers(seg.group_id)))
    if seg.cohort:
        out.append(CustomerScore.contact_month == seg.cohort)
    return out


STEP_CLAUSES = {"contact": lambda: CustomerScore.first_contact_at.is_not(None),
                "first": lambda: and_(CustomerScore.first_contact_at.is_not(None),
                                      CustomerScore.first_order_at.is_not(None)),
                "repeat": lambda: and_(CustomerScore.first_contact_at.is_not(None),
                                       CustomerScore.second_order_at.is_not(None))}


def _scored(*clauses):
    return Customer.id.in_(select(CustomerScore.customer_id).where(*clauses))


def _buyers(seg: Segment, tz: Optional[str]):
    lo, hi = local_bounds(seg.start, seg.end, tz)
    stmt = select(SalesOrder.customer_id).where(lifecycle.purchase_clause(), SalesOrder.paid_at >= lo,
                                                SalesOrder.paid_at < hi)
    if seg.channel_id is not None:
        stmt = stmt.where(SalesOrder.channel_id == seg.channel_id)
    if seg.scene_id is not None:
        stmt = stmt.where(SalesOrder.scene_id == seg.scene_id)
    if seg.staff_id is not None:
        stmt = stmt.where(SalesOrder.credited_user_id == seg.staff_id)
    clause = Customer.id.in_(stmt)
    if seg.group_id is not None:
        clause = and_(clause, Customer.id.in_(group_customers(seg.group_id)))
    return clause


def clause(seg: Segment, tz: Optional[str] = None):
    """The segment alone (no scope): a boolean clause on Customer."""
    if seg.kind == "customers":
        return true()
    if seg.kind == "contacts":
        lo, hi = local_bounds(seg.start, seg.end, tz)
        return _scored(CustomerScore.first_contact_at >= lo, CustomerScore.first_contact_at < hi,
                       *score_filters(replace(seg, cohort="")))
    if seg.kind == "buyers":
        return _buyers(seg, tz)
    if seg.kind in ("funnel", "rfm"):
        return _scored(*score_clauses(seg))
    if seg.kind == "cohort":
        lo, hi = month_bounds(seg.cohort, seg.offset, tz)
        active = select(SalesOrder.customer_id).where(lifecycle.purchase_clause(), SalesOrder.paid_at >= lo,
                                                      SalesOrder.paid_at < hi)
        return and_(_scored(*score_filters(seg)), Customer.id.in_(active))
    return false()


def customers_clause(seg: Segment, viewer: scope.Viewer, tz: Optional[str] = None):
    """What the viewer sees of the segment: scope ∧ not in the recycle bin ∧ the segment."""
    return and_(scope.customers(viewer), Customer.status == "active", clause(seg, tz))


def customer_ids(session: Session, seg: Segment, viewer: scope.Viewer, tz: Optional[str] = None) -> list[int]:
    return list(session.execute(select(Customer.id).where(customers_clause(seg, viewer, tz))
                                .order_by(Customer.id)).scalars())


def score_clauses(seg: Segment) -> Optional[list]:
    """The segment as clauses on CustomerScore alone (rfm, funnel), or None when it also needs orders."""
    if seg.kind == "rfm":
        return [CustomerScore.segment == seg.key, *score_filters(seg)]
    if seg.kind == "funnel":
        return [STEP_CLAUSES[seg.step](), *score_filters(seg)]
    return None


def count(session: Session, seg: Segment, viewer: scope.Viewer, tz: Optional[str] = None) -> int:
    """How many customers the viewer sees in the segment; rfm / funnel segments are counted from their
    indexed customer_score rows rather than by probing every customer."""
    clauses = score_clauses(seg)
    if clauses is not None:
        stmt = select(func.count()).select_from(CustomerScore).where(in_scope_scores(viewer), *clauses)
    else:
        stmt = select(func.count()).select_from(Customer).where(customers_clause(seg, viewer, tz))
    return int(session.execute(stmt).scalar() or 0)


def in_scope_scores(viewer: scope.Viewer):
    """Clause on CustomerScore: rows of customers the viewer sees (and not recycled). For a viewer who
    sees everyone it excludes the (few) inactive customers instead of probing every row's customer."""
    if viewer.system or viewer.has("customers.view_all"):
        return CustomerScore.customer_id.not_in(select(Customer.id).where(Customer.status != "active"))
    visible = select(Customer.id).where(scope.customers(viewer), Customer.status == "active")
    return CustomerScore.customer_id.in_(visible)


__all__ = ["Segment", "parse", "parse_range", "clause", "customers_clause", "customer_ids", "score_filters",
           "STEP_CLAUSES", "local_bounds", "month_bounds", "in_scope_scores", "group_customers", "KINDS", "STEPS",
           "count", "score_clauses"]
