"""我的目标达成: each target set for me (目标设置: per metric, per day/week/month) against what the
rollups say I reached so far in the current day, Monday-to-Sunday week or calendar month (Beijing
days), with the 达成率. Amount metrics (…_fen) are shown in 元."""
from __future__ import annotations

from datetime import date, timedelta

from sqlmodel import Session, select

from analytics import rollup_store
from analytics.models import TARGET_PERIODS, MetricTarget
from analytics.panels import register
from analytics.panels.base import Door, Panel, PanelContext

# The contract's metric keys (analytics rollups) and how people call them.
METRIC_LABELS = {
    "new_friends": "新增好友数", "effective_friends": "有效粉", "moments_posted": "朋友圈发布数", "reached": "触达人数",
    "consulted": "咨询人数", "buyers": "成交人数", "gmv_fen": "成交金额", "refund_fen": "退款金额",
    "orders_paid": "成交订单数", "new_customers": "新增客户数", "leads_assigned": "分配线索数", "followups": "跟进次数",
    "group_joins": "入群人数", "group_quits": "退群人数", "active_friends": "活跃好友数",
}
_PERIOD_ORDER = {"day": 0, "week": 1, "month": 2}


def period_range(period: str, today: date) -> tuple[date, date]:
    """The current period containing `today`: the day, its Monday–Sunday week, its month."""
    if period == "day":
        return today, today
    if period == "week":
        monday = today - timedelta(days=today.weekday())
        return monday, monday + timedelta(days=6)
    first = today.replace(day=1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return first, last


def rate(actual: int, target: int) -> float | None:
    return None if target <= 0 else actual / target


@register
class MyTargets(Panel):
    key = "my_targets"
    title = "我的目标达成"
    permission = "reports.view"
    page = "reports.daily"
    description = "为我设定的日/周/月目标与当前完成情况"

    def data(self, session: Session, ctx: PanelContext) -> dict:
        targets = session.exec(select(MetricTarget).where(MetricTarget.dim == "user",
                                                          MetricTarget.dim_id == ctx.user_id)).all()
        rows = []
        for t in sorted(targets, key=lambda t: (_PERIOD_ORDER.get(t.period, 9), t.metric)):
            if t.period not in TARGET_PERIODS:
                continue
            start, end = period_range(t.period, ctx.today)
            actual = rollup_store.totals(session, t.metric, "user", start, min(end, ctx.today), [ctx.user_id]).get(
                ctx.user_id, 0)
            rows.append({"metric": t.metric, "label": METRIC_LABELS.get(t.metric, t.metric), "period": t.period,
                         "period_label": TARGET_PERIODS[t.period], "start": start, "end": end, "target": int(t.value),
                         "actual": int(actual), "rate": rate(int(actual), int(t.value)),
                         "money": t.metric.endswith("_fen")})
        return {"rows": rows, "door": Door("reports.daily", {}), "targets_door": Door("reports.targets", {})}
