"""标签 top10: the ten tags carried by the most of the customers the viewer may see (other people's
personal tags left out), each a door to the customer list filtered by that tag, drawn as a bar chart.

Counting every link of every visible customer is a scan (a whole company's links for holders of
查看全部客户), so the counts are a snapshot kept in the daily rollup table: metric
"tag_customers:<tag id>" per viewer (dim user) or for the company (dim company, shared by everyone
who sees all customers), with a "tag_customers" marker row whose value is when it was taken (epoch
seconds of the service clock, so a test clock and the wall clock never mix).
A snapshot older than SNAPSHOT_MINUTES is recomputed on the next home load (through the page's
"write" provider), so the panel costs one indexed read nearly always and the scan at most once per
period per viewer; the panel shows when its numbers were taken."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, func, or_
from sqlmodel import Session, col, select

from analytics import rollup_store
from analytics.models import DailyMetric
from analytics.panels import register
from analytics.panels.base import Door, Panel, PanelContext, bar_option
from config.clock import as_utc
from crm.customers.models import Customer
from crm.scope import customers as customer_scope
from crm.tags.models import CustomerTag, Tag

TOP = 10
SNAPSHOT_MINUTES = 10
MARKER = "tag_customers"
PREFIX = MARKER + ":"
WRITE_PROVIDER = "write"  # ctx.providers["write"](fn): runs fn(session) in its own write transaction


def tag_door(tag_id: int) -> Door:
    return Door("customers.index", {"adv": json.dumps({"include_tags": [tag_id]})})


def _dim(ctx: PanelContext) -> tuple[str, int]:
    return rollup_store.COMPANY if ctx.viewer.has("customers.view_all") else ("user", ctx.user_id)


def live_counts(session: Session, ctx: PanelContext) -> dict[int, int]:
    """tag id → visible active customers carrying it. Links are counted by customer_id first
    (customer_tag's primary key starts with it), so the join never fans out over tag rows."""
    visible = select(Customer.id).where(Customer.status == "active", customer_scope(ctx.viewer))
    return {int(t): int(n) for t, n in session.exec(select(CustomerTag.tag_id, func.count()).where(
        col(CustomerTag.customer_id).in_(visible)).group_by(CustomerTag.tag_id)).all()}


def _stored(session: Session, ctx: PanelContext):
    """(counts, taken_at) of a fresh enough snapshot, or None."""
    dim, dim_id = _dim(ctx)
    rows = session.exec(select(DailyMetric.metric, DailyMetric.value).where(
        DailyMetric.day == ctx.today, DailyMetric.dim == dim, DailyMetric.dim_id == dim_id,
        or_(DailyMetric.metric == MARKER, col(DailyMetric.metric).startswith(PREFIX)))).all()
    stamp = next((v for metric, v in rows if metric == MARKER), None)
    if stamp is None:
        return None
    taken_at = datetime.fromtimestamp(int(stamp), tz=timezone.utc)
    now = as_utc(ctx.now)
    if not now - timedelta(minutes=SNAPSHOT_MINUTES) <= taken_at <= now:
        return None
    return {int(metric[len(PREFIX):]): int(v) for metric, v in rows if metric != MARKER and v}, taken_at


def store(session: Session, ctx: PanelContext, counts: dict[int, int]) -> None:
    """Replaces today's snapshot of this viewer's (or the company's) counts."""
    dim, dim_id = _dim(ctx)
    session.execute(delete(DailyMetric).where(
        DailyMetric.day == ctx.today, DailyMetric.dim == dim, DailyMetric.dim_id == dim_id,
        or_(DailyMetric.metric == MARKER, col(DailyMetric.metric).startswith(PREFIX))))
    for tag_id, n in counts.items():
        rollup_store.put(session, ctx.today, f"{PREFIX}{tag_id}", {(dim, dim_id): n})
    rollup_store.put(session, ctx.today, MARKER, {(dim, dim_id): int(as_utc(ctx.now).timestamp())})


@register
class TagTop(Panel):
    key = "tag_top"
    title = "标签 top10"
    permission = "tags.view"
    page = "tags.index"
    description = "我可见的客户中人数最多的 10 个标签"

    def data(self, session: Session, ctx: PanelContext) -> dict:
        found = _stored(session, ctx)
        if found is None:
            counts, taken_at = live_counts(session, ctx), as_utc(ctx.now)
            writer = ctx.providers.get(WRITE_PROVIDER)
            if writer is not None:
                writer(lambda s: store(s, ctx, counts))
        else:
            counts, taken_at = found
        tags = session.exec(select(Tag.id, Tag.name).where(
            col(Tag.id).in_(list(counts)), Tag.enabled.is_(True),
            or_(col(Tag.owner_id).is_(None), Tag.owner_id == ctx.user_id))).all() if counts else []
        top = sorted(((counts[tid], tid, name) for tid, name in tags), key=lambda r: (-r[0], r[1]))[:TOP]
        return {"rows": [{"tag_id": tid, "name": name, "count": n, "door": tag_door(tid)} for n, tid, name in top],
                "taken_at": taken_at, "snapshot_minutes": SNAPSHOT_MINUTES}

    def chart(self, data: dict, link) -> dict | None:
        if not data["rows"]:
            return None
        return bar_option([(r["name"], r["count"], link(r["door"])) for r in data["rows"]], "客户数")
