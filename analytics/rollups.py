"""Keeping metric_daily current.

Design (why a frequent job, not a hook in the ingest path): most KPIs count *distinct people* per
day and dimension (咨询人数, 触达人数, 活跃好友 …). Bumping those as events arrive needs a "seen today?" lookup
plus an upsert per dimension (company, staff, each department, account, group) on every message —
several writes inside every ingest transaction, more than the event's own insert.
Instead the `rollup_live` cron job (every CKB_ROLLUP_LIVE_MINUTES minutes, default 1; scheduler
leader only) recomputes *today* (and yesterday during the first minutes after midnight, so the last
minute of a day is not lost) from the raw rows with the same metric plugins the nightly job uses,
and replaces that day's rows in one short write transaction (the counting runs in a read
transaction, so ingest does not wait on it). Ingest itself does no extra work; what it shares is the
CPU the job uses, which grows with the day's volume (bench/dashboard.py measures the slowdown),
"today" is at most a minute old, and there is one counting rule per metric, not an incremental one
and a recompute one that could drift apart.

`rollup_nightly` (CKB_ROLLUP_NIGHTLY_AT, default 03:30 Beijing) recomputes today and the
CKB_ROLLUP_RECOMPUTE_DAYS days before it (default 3), and for a metric that settles later (有效粉:
7 days) at least that many, so events reported late land on the day they happened.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Iterable, Optional

from sqlalchemy import delete, insert
from sqlmodel import Session

from analytics.metrics import REGISTRY, Context, Fact, Metric
from analytics.models import DailyMetric
from config.clock import from_local, to_local, utcnow

LIVE_GRACE = timedelta(minutes=10)  # after midnight the live job still finishes yesterday


def day_of(instant: datetime, tz: Optional[str] = None) -> date:
    """The configured-zone (Beijing) calendar day of an instant."""
    return to_local(instant, tz).date()


def day_bounds(first: date, last: date, tz: Optional[str] = None) -> tuple[datetime, datetime]:
    """[start, end) in UTC covering the local days first … last."""
    return (from_local(datetime.combine(first, time.min), tz),
            from_local(datetime.combine(last + timedelta(days=1), time.min), tz))


def aggregate(metric: Metric, facts: Iterable[Fact], ctx: Context, tz: Optional[str] = None) -> dict:
    """{day: {(dim, dim_id): value}}: distinct people or summed amounts per day and dimension."""
    people: dict = {}
    sums: dict = {}
    for fact in facts:
        day = day_of(fact.when, tz)
        for key in ctx.dims(fact):
            if metric.distinct:
                people.setdefault(day, {}).setdefault(key, set()).add(fact.person)
            else:
                bucket = sums.setdefault(day, {})
                bucket[key] = bucket.get(key, 0) + fact.amount
    if metric.distinct:
        return {day: {k: len(v) for k, v in dims.items()} for day, dims in people.items()}
    return sums


def compute(session: Session, first: date, last: date, keys: Optional[Iterable[str]] = None,
            tz: Optional[str] = None, ctx: Optional[Context] = None) -> dict:
    """{metric: {day: {(dim, dim_id): value}}} for days first … last, counted from the raw rows
    (reads only, so the jobs run it outside the write lock)."""
    ctx = ctx or Context.load(session)
    start, end = day_bounds(first, last, tz)
    out = {}
    for key in keys or REGISTRY:
        metric = REGISTRY[key]
        values = aggregate(metric, metric.facts(session, start, end, ctx), ctx, tz)
        out[key] = {day: dims for day, dims in values.items() if first <= day <= last}
    return out


def replace(session: Session, first: date, last: date, computed: dict) -> int:
    """Replaces the rows of days first … last for the computed metrics; returns rows written."""
    now = utcnow()
    rows = []
    for key, values in computed.items():
        session.execute(delete(DailyMetric).where(DailyMetric.metric == key, DailyMetric.day >= first,
                                                  DailyMetric.day <= last))
        rows.extend({"day": day, "metric": key, "dim": dim, "dim_id": dim_id, "value": value, "updated_at": now}
                    for day, dims in values.items() for (dim, dim_id), value in dims.items())
    if rows:
        # The range was just emptied, so a plain executemany INSERT (one cached statement) does what
        # rollup_store.put's upsert would, without compiling a multi-row VALUES per day.
        session.connection().execute(insert(DailyMetric.__table__), rows)
    return len(rows)


def recompute(session: Session, first: date, last: date, keys: Optional[Iterable[str]] = None,
              tz: Optional[str] = None) -> int:
    """compute + replace in the caller's transaction."""
    return replace(session, first, last, compute(session, first, last, keys, tz))


def _refresh(db, first: date, last: date, keys: Optional[Iterable[str]], tz: Optional[str]) -> int:
    """Counts in a read transaction, then swaps the rows in a short write one: ingest waits for the
    write lock only while the day's rows are replaced, not while the raw rows are scanned. A row
    stored between the two is counted by the next run (a minute later)."""
    computed = _compute_in_steps(db, first, last, keys, tz)
    with db.write() as session:
        return replace(session, first, last, computed)


def _compute_in_steps(db, first: date, last: date, keys: Optional[Iterable[str]], tz: Optional[str]) -> dict:
    """compute, one short read transaction per metric sharing one Context (and its cache of raw
    rows): on SQLite a read held for the whole recount would hold back the WAL checkpoint while
    ingest keeps writing."""
    with db.read() as session:
        ctx = Context.load(session)
    out: dict = {}
    for key in keys or REGISTRY:
        with db.read() as session:
            out.update(compute(session, first, last, [key], tz, ctx))
    return out


def live_days(now: datetime, tz: Optional[str] = None) -> tuple[date, date]:
    today = day_of(now, tz)
    return (today - timedelta(days=1) if day_of(now - LIVE_GRACE, tz) != today else today), today


def run_live(db, now: datetime, tz: Optional[str] = None) -> str:
    first, last = live_days(now, tz)
    n = _refresh(db, first, last, None, tz)
    return f"实时汇总 {first.isoformat()}–{last.isoformat()}：{n} 行"


def run_nightly(db, now: datetime, days: int, tz: Optional[str] = None) -> str:
    """Recomputes today and the `days` days before it — more for a metric that settles later."""
    today = day_of(now, tz)
    spans: dict[int, list[str]] = {}
    for key, metric in REGISTRY.items():
        spans.setdefault(max(days, metric.settle_days), []).append(key)
    total = 0
    for span, keys in spans.items():
        first = today - timedelta(days=span)
        computed = _compute_in_steps(db, first, today, keys, tz)  # one span shares its raw rows
        for key in keys:  # one short write transaction per metric
            with db.write() as session:
                total += replace(session, first, today, {key: computed[key]})
    return f"重算最近 {days} 天汇总：{total} 行"
