"""Metric plugins, one per file, registered by their stable key (the `metric` column of metric_daily:
rename a class freely, never a key). The order here is the order reports show them in."""
from __future__ import annotations

from analytics.metrics import (active_friends, buyers, consulted, effective_friends, followups, gmv, group_joins,
                               group_quits, leads_assigned, moments_posted, new_customers, new_friends, orders_paid,
                               reached, refunds)
from analytics.metrics.base import Context, Fact, Metric

_MODULES = (new_friends, effective_friends, moments_posted, reached, consulted, buyers, gmv, refunds, orders_paid,
            active_friends, new_customers, leads_assigned, followups, group_joins, group_quits)
REGISTRY: dict[str, Metric] = {m.METRIC.key: m.METRIC for m in _MODULES}


def get(key: str) -> Metric:
    return REGISTRY[key]


__all__ = ["Context", "Fact", "Metric", "REGISTRY", "get"]
