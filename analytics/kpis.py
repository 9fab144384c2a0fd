"""The KPIs the reports show: metric keys (counted by analytics/metrics) and two rates computed from
them. Which ones each report lists comes from seed 002 §5.1 (每日数据报表) and §5.3 (月度数据看板)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from analytics.metrics import REGISTRY


@dataclass(frozen=True)
class Kpi:
    key: str
    label: str
    unit: str
    money: bool = False
    numerator: Optional[str] = None  # a rate: numerator / denominator, in %
    denominator: Optional[str] = None
    definition: str = ""

    @property
    def is_rate(self) -> bool:
        return self.numerator is not None

    @property
    def summable(self) -> bool:
        """A target per day adds up to a week's or month's target (a rate does not)."""
        return not self.is_rate


RATES = {
    "effective_rate": Kpi("effective_rate", "有效粉占比", "%", numerator="effective_friends", denominator="new_friends",
                          definition="有效粉 ÷ 新增好友数。" + REGISTRY["effective_friends"].definition),
    "conversion_rate": Kpi("conversion_rate", "转化率", "%", numerator="buyers", denominator="consulted",
                           definition="成交人数 ÷ 咨询人数"),
}


def kpi(key: str) -> Kpi:
    if key in RATES:
        return RATES[key]
    m = REGISTRY[key]
    return Kpi(m.key, m.label, m.unit, m.money, definition=m.definition)


DAILY = ["new_friends", "effective_rate", "moments_posted", "reached", "consulted", "buyers", "gmv_fen"]
MORE = ["effective_friends", "active_friends", "orders_paid", "refund_fen", "new_customers", "leads_assigned",
        "followups", "group_joins", "group_quits"]
MONTHLY = ["new_friends", "active_friends", "consulted", "buyers", "gmv_fen", "conversion_rate"]
RANKING = ["new_friends", "effective_friends", "reached", "consulted", "buyers", "gmv_fen"]
TARGETABLE = DAILY + ["active_friends", "conversion_rate", "orders_paid", "new_customers", "leads_assigned", "followups",
                      "group_joins"]

# Defaults from seed 002 §5.1/§5.3 offered when a company target is first set (not applied silently).
SEED_TARGETS = {("new_friends", "day"): 100, ("effective_rate", "day"): 60, ("moments_posted", "day"): 5,
                ("reached", "day"): 50, ("consulted", "day"): 10, ("buyers", "day"): 2, ("gmv_fen", "day"): 200_000,
                ("new_friends", "month"): 3000, ("active_friends", "month"): 1800, ("consulted", "month"): 300,
                ("buyers", "month"): 50, ("gmv_fen", "month"): 5_000_000, ("conversion_rate", "month"): 5}


def fmt(k: Kpi, value) -> str:
    """A value as people read it: money in 元 with 分, rates in %, counts with their unit."""
    if value is None:
        return "—"
    if k.money:
        return f"¥{value / 100:,.2f}"
    if k.is_rate:
        return f"{value:.1f}%"
    return f"{value:,}"
