"""A generated month of activity: every KPI in metric_daily (and on the report) equals the value an
independent oracle counts from the generated records — for a person, a team (with its sub-team) and
the company, on Beijing days."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from analytics import reports, rollup_store as store
from analytics.kpis import DAILY, MONTHLY
from analytics.metrics import REGISTRY
from analytics.periods import day_of, month_of
from analytics.scopes import Scope
from tests.analytics.month_seed import FIRST, LAST, Oracle, seeded_month


@pytest.fixture
def month(db):
    return seeded_month(db)


def _scopes(seed):
    return [("user", seed.users["u1"]), ("department", seed.depts["top"]), ("company", 0)]


def test_every_metric_every_day_matches_the_oracle(db, month):
    oracle = Oracle(month)
    days = [FIRST + timedelta(days=i) for i in range(31)]
    with db.read() as s:
        for metric in REGISTRY:
            for dim, dim_id in _scopes(month):
                got = store.series(s, metric, dim, [dim_id], FIRST, LAST)
                want = {d: oracle.value(metric, dim, dim_id, d) for d in days}
                assert got == want, (metric, dim)
    assert sum(oracle.value("new_friends", "company", 0, d) for d in days) > 100  # the month is not empty
    assert sum(oracle.value("effective_friends", "company", 0, d) for d in days) > 5
    assert sum(oracle.value("refund_fen", "company", 0, d) for d in days) > 0


def test_beijing_midnight_splits_days_on_a_utc_host(db, month):
    """wx_p0 was added at 23:59:59 and wx_p1 at 00:00:00 Beijing time (15:59:59 / 16:00:00 UTC)."""
    u1 = month.users["u1"]
    with db.read() as s:
        tenth = store.series(s, "new_friends", "account", [min(month.owner)], date(2026, 10, 10), date(2026, 10, 11))
    oracle = Oracle(month)
    assert tenth[date(2026, 10, 10)] >= 1 and tenth[date(2026, 10, 11)] >= 1
    with db.read() as s:
        got = store.series(s, "new_friends", "user", [u1], date(2026, 10, 10), date(2026, 10, 11))
    assert got == {d: oracle.value("new_friends", "user", u1, d) for d in got}


def test_report_figures_and_rates_match_the_oracle(db, month):
    oracle = Oracle(month)
    for dim, dim_id in _scopes(month):
        scope = Scope(dim, dim_id, "x")
        for day in (date(2026, 10, 3), date(2026, 10, 17), date(2026, 10, 31)):
            with db.read() as s:
                figs = {f.key: f for f in reports.figures(s, scope, day_of(day), DAILY)}
            for key in DAILY:
                if key == "effective_rate":
                    new = oracle.value("new_friends", dim, dim_id, day)
                    eff = oracle.value("effective_friends", dim, dim_id, day)
                    assert figs[key].actual == (round(100.0 * eff / new, 1) if new else None)
                else:
                    assert figs[key].actual == oracle.value(key, dim, dim_id, day), (key, dim, day)
            prev = day - timedelta(days=1)
            assert figs["new_friends"].previous == oracle.value("new_friends", dim, dim_id, prev)
        with db.read() as s:
            monthly = {f.key: f for f in reports.figures(s, scope, month_of(FIRST), MONTHLY)}
        days = [FIRST + timedelta(days=i) for i in range(31)]
        for key in ("new_friends", "active_friends", "consulted", "buyers", "gmv_fen"):
            assert monthly[key].actual == sum(oracle.value(key, dim, dim_id, d) for d in days)
        consulted = sum(oracle.value("consulted", dim, dim_id, d) for d in days)
        buyers = sum(oracle.value("buyers", dim, dim_id, d) for d in days)
        assert monthly["conversion_rate"].actual == (round(100.0 * buyers / consulted, 1) if consulted else None)
