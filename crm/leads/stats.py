"""获客统计: how many leads each scene and channel brought in per day, how many became customers
(转化率), how fast they were handed to a salesperson (分配耗时), how many were repeats (重复线索)
or people we already knew (老客户线索), and what went wrong on the way in (死信, 被拒绝的回调).

Days are the configured time zone's calendar days (CKB_TIMEZONE): a lead received at
23:30 Beijing time on the 1st counts on the 1st although it is stored as 15:30 UTC.

Every figure is one set-based query (GROUP BY scene, channel and local day), so the page stays quick
over 100k leads. Definitions:

- 线索数: leads whose created_at falls in the period.
- 转化率: leads now in status CONVERTED ÷ all leads (of the scene / channel / period).
- 分配耗时: LeadAssignment.latency_seconds of each lead's FIRST assignment (lowest id), for the
  leads of the period; average, and p50/p90 by nearest rank (the value at position ⌈p·n⌉ of the
  sorted latencies) — re-assignments do not count.
- 重复线索: leads with duplicate_of_id (an earlier lead of the same person in the scene) ÷ all.
- 老客户线索: leads matched to a customer that existed before (customer_id set and not
  customer_is_new) ÷ all.
- 漏斗: 收到 (all) → 已分配 (assigned_at set) → 跟进中 (PROCESSING or CONVERTED) → 已转化.
- 死信 / 被拒绝的回调: LeadDeadLetter and WebhookRejection rows created in the period.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import Date, and_, case, cast, func
from sqlmodel import Session, col, select

from config.clock import UTC, zone
from crm.leads.errors import LeadsError
from crm.leads.models import (LEAD_STATUSES, Lead, LeadAssignment, LeadChannel, LeadDeadLetter, LeadScene,
                              WebhookRejection)

MAX_DAYS = 366
NO_CHANNEL = "未指定渠道"
# WebhookRejection.reason → what the console shows.
REJECTION_REASONS = {"signature": "签名错误", "timestamp": "时间戳超出窗口", "replay": "重放请求", "scene": "场景不存在、已停用或不唯一",
                     "rate_limit": "请求过于频繁", "body": "请求体无效"}
FUNNEL_STAGES = (("received", "收到线索"), ("assigned", "已分配"), ("processing", "跟进中"), ("converted", "已转化"))


@dataclass(frozen=True)
class Period:
    """Calendar days first..last (inclusive) in `tz`, and the UTC instants that bound them."""

    first: date
    last: date
    tz: str

    @property
    def start(self) -> datetime:
        return _local_midnight(self.first, self.tz)

    @property
    def end(self) -> datetime:
        return _local_midnight(self.last + timedelta(days=1), self.tz)

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range((self.last - self.first).days + 1)]


def make_period(first: date, last: date, tz: str) -> Period:
    if last < first:
        raise LeadsError("结束日期不能早于开始日期", {"end": "结束日期不能早于开始日期"})
    if (last - first).days + 1 > MAX_DAYS:
        raise LeadsError(f"统计区间最长 {MAX_DAYS} 天", {"end": f"统计区间最长 {MAX_DAYS} 天"})
    return Period(first, last, tz)


def last_days(today: date, n: int, tz: str) -> Period:
    """The default period: the last `n` days including today."""
    return make_period(today - timedelta(days=n - 1), today, tz)


def _local_midnight(day: date, tz: str) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone(tz)).astimezone(UTC)


def _offset_segments(start: datetime, end: datetime, tz: str) -> list[tuple[datetime, datetime, int]]:
    """[start, end) cut where the zone's UTC offset changes (daylight saving), with each piece's
    offset in minutes. Zones without DST (China Standard Time) give one piece. Sampled hourly and each
    change pinned to the second by bisection, since zoneinfo does not list its transitions."""
    tzinfo = zone(tz)

    def offset(epoch: int) -> int:
        return int(datetime.fromtimestamp(epoch, tzinfo).utcoffset().total_seconds() // 60)

    first, stop = int(start.timestamp()), int(end.timestamp())
    samples = list(range(first, stop, 3600)) + [stop - 1]
    segments, seg_start, current, prev = [], first, offset(first), first
    for sample in samples[1:]:
        if offset(sample) != current:
            lo, hi = prev, sample  # offset(lo) is the old one, offset(hi) the new one
            while hi - lo > 1:
                mid = (lo + hi) // 2
                lo, hi = (mid, hi) if offset(mid) == current else (lo, mid)
            segments.append((seg_start, hi, current))
            seg_start, current = hi, offset(hi)
        prev = sample
    segments.append((seg_start, stop, current))

    # Period bounds are local midnights, whole seconds: the epoch round trip is exact.
    return [(datetime.fromtimestamp(a, UTC), datetime.fromtimestamp(b, UTC), m) for a, b, m in segments if a < b]


def _local_day(session: Session, column, tz: str, offset_minutes: int):
    """The SQL expression of `column`'s calendar day in `tz`. PostgreSQL converts natively;
    SQLite stores naive UTC text, so the (constant, per segment) offset is added."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone(tz, column), Date)
    return func.date(column, f"{offset_minutes:+d} minutes")


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _counts_by_day(session: Session, period: Period) -> list[tuple]:
    """(scene_id, channel_id, day, leads, converted, duplicates, existing) per group."""
    out = []
    converted = func.sum(case((Lead.status == "CONVERTED", 1), else_=0))
    duplicate = func.sum(case((col(Lead.duplicate_of_id).is_not(None), 1), else_=0))
    existing = func.sum(case((and_(col(Lead.customer_id).is_not(None), Lead.customer_is_new == False), 1),  # noqa: E712
                             else_=0))
    for seg_start, seg_end, minutes in _offset_segments(period.start, period.end, period.tz):
        day = _local_day(session, Lead.created_at, period.tz, minutes)
        stmt = (select(Lead.scene_id, Lead.channel_id, day, func.count(), converted, duplicate, existing)
                .where(Lead.created_at >= seg_start, Lead.created_at < seg_end)
                .group_by(Lead.scene_id, Lead.channel_id, day))
        out += [(r[0], r[1], _as_date(r[2]), int(r[3]), int(r[4] or 0), int(r[5] or 0), int(r[6] or 0))
                for r in session.exec(stmt).all()]
    return out


def _in_period(period: Period):
    return and_(Lead.created_at >= period.start, Lead.created_at < period.end)


def _first_assignments(period: Period):
    """Each period lead's first assignment id (subquery: lead_id, first_id)."""
    return (select(LeadAssignment.lead_id, func.min(LeadAssignment.id).label("first_id"))
            .join(Lead, Lead.id == LeadAssignment.lead_id).where(_in_period(period))
            .group_by(LeadAssignment.lead_id).subquery())


def _latency_groups(session: Session, period: Period, column) -> dict:
    """{scene or channel id: (count, average seconds)} of first-assignment latencies."""
    first = _first_assignments(period)
    stmt = (select(column, func.count(), func.avg(LeadAssignment.latency_seconds)).select_from(LeadAssignment)
            .join(first, first.c.first_id == LeadAssignment.id).join(Lead, Lead.id == LeadAssignment.lead_id)
            .group_by(column))
    return {key: (int(n), float(avg)) for key, n, avg in session.exec(stmt).all() if n}


def latency(session: Session, period: Period, groups: dict | None = None) -> dict:
    """count, avg, p50, p90 (seconds) of first-assignment latencies; None when nothing was assigned.
    `groups` (from _latency_groups) saves recounting; both percentiles come from one ranked query."""
    groups = _latency_groups(session, period, Lead.scene_id) if groups is None else groups
    n = sum(c for c, _ in groups.values())
    out = {"count": n, "avg": round(sum(c * a for c, a in groups.values()) / n, 1) if n else None, "p50": None, "p90": None}
    if not n:
        return out
    ranks = {key: max(1, math.ceil(p * n)) for key, p in (("p50", 0.5), ("p90", 0.9))}  # nearest rank, 1-based
    first = _first_assignments(period)
    ranked = (select(LeadAssignment.latency_seconds.label("v"),
                     func.row_number().over(order_by=LeadAssignment.latency_seconds).label("rn"))
              .join(first, first.c.first_id == LeadAssignment.id).subquery())
    values = dict(session.exec(select(ranked.c.rn, ranked.c.v).where(ranked.c.rn.in_(set(ranks.values())))).all())
    out.update({key: round(float(values[rank]), 1) for key, rank in ranks.items()})
    return out


def _funnel(session: Session, period: Period) -> tuple[list[dict], list[dict]]:
    stmt = (select(Lead.status, col(Lead.assigned_at).is_not(None), func.count())
            .where(_in_period(period)).group_by(Lead.status, col(Lead.assigned_at).is_not(None)))
    by_status: dict[str, int] = {}
    assigned = 0
    for status, was_assigned, n in session.exec(stmt).all():
        by_status[status] = by_status.get(status, 0) + n
        if was_assigned or status in ("ASSIGNED", "PROCESSING", "CONVERTED"):
            assigned += n
    total = sum(by_status.values())
    reached = {"received": total, "assigned": assigned,
               "processing": by_status.get("PROCESSING", 0) + by_status.get("CONVERTED", 0),
               "converted": by_status.get("CONVERTED", 0)}
    funnel = [{"key": k, "label": label, "count": reached[k], "ratio": _ratio(reached[k], total)}
              for k, label in FUNNEL_STAGES]
    statuses = [{"status": s, "label": label, "count": by_status.get(s, 0), "ratio": _ratio(by_status.get(s, 0), total)}
                for s, label in LEAD_STATUSES.items()]
    return funnel, statuses


def _troubles(session: Session, period: Period) -> tuple[dict, dict]:
    dead = dict(session.exec(select(LeadDeadLetter.status, func.count())
                             .where(LeadDeadLetter.created_at >= period.start, LeadDeadLetter.created_at < period.end)
                             .group_by(LeadDeadLetter.status)).all())
    rejected = dict(session.exec(select(WebhookRejection.reason, func.sum(WebhookRejection.hits))
                                 .where(WebhookRejection.created_at >= period.start,
                                        WebhookRejection.created_at < period.end)
                                 .group_by(WebhookRejection.reason)).all())
    return ({"total": sum(dead.values()), "open": dead.get("open", 0), "by_status": dead},
            {"total": sum(rejected.values()), "by_reason": dict(sorted(rejected.items(), key=lambda kv: -kv[1]))})


def _rows(groups: dict, names: dict, days: list[date], latencies: dict) -> list[dict]:
    """Per-scene or per-channel table rows, biggest first, each with its daily series."""
    index = {d: i for i, d in enumerate(days)}
    rows = []
    for key, g in groups.items():
        daily = [0] * len(days)
        for d, n in g["daily"].items():
            daily[index[d]] += n
        rows.append({"id": key, "name": names.get(key, NO_CHANNEL if key is None else f"#{key}"),
                     "total": g["total"], "converted": g["converted"], "conversion_rate": _ratio(g["converted"], g["total"]),
                     "duplicates": g["duplicates"], "duplicate_ratio": _ratio(g["duplicates"], g["total"]),
                     "existing": g["existing"], "existing_ratio": _ratio(g["existing"], g["total"]),
                     "avg_latency": round(latencies[key][1], 1) if key in latencies else None, "daily": daily})
    return sorted(rows, key=lambda r: (-r["total"], r["name"]))


def _grouped(counts: list[tuple], position: int) -> dict:
    groups: dict = {}
    for row in counts:
        key, day, n, conv, dup, ex = row[position], row[2], row[3], row[4], row[5], row[6]
        g = groups.setdefault(key, {"total": 0, "converted": 0, "duplicates": 0, "existing": 0, "daily": {}})
        g["total"] += n
        g["converted"] += conv
        g["duplicates"] += dup
        g["existing"] += ex
        g["daily"][day] = g["daily"].get(day, 0) + n
    return groups


def lead_stats(session: Session, period: Period) -> dict:
    """Everything 获客统计 shows for the period (see the module docstring for each definition)."""
    counts = _counts_by_day(session, period)
    days = period.days
    scene_names = dict(session.exec(select(LeadScene.id, LeadScene.name)).all())
    channel_names = dict(session.exec(select(LeadChannel.id, LeadChannel.name)).all())
    by_scene = _latency_groups(session, period, Lead.scene_id)
    by_channel = _latency_groups(session, period, Lead.channel_id)
    scenes = _rows(_grouped(counts, 0), scene_names, days, by_scene)
    channels = _rows(_grouped(counts, 1), channel_names, days, by_channel)
    total = sum(r[3] for r in counts)
    converted = sum(r[4] for r in counts)
    duplicates = sum(r[5] for r in counts)
    existing = sum(r[6] for r in counts)
    daily = [0] * len(days)
    for r in scenes:
        daily = [a + b for a, b in zip(daily, r["daily"])]
    funnel, statuses = _funnel(session, period)
    dead, rejected = _troubles(session, period)
    return {"period": period, "days": days, "total": total, "daily": daily,
            "converted": converted, "conversion_rate": _ratio(converted, total),
            "duplicates": duplicates, "duplicate_ratio": _ratio(duplicates, total),
            "existing": existing, "existing_ratio": _ratio(existing, total),
            "latency": latency(session, period, by_scene), "funnel": funnel, "statuses": statuses,
            "dead_letters": dead, "rejections": rejected, "scenes": scenes, "channels": channels}
