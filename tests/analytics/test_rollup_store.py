"""DailyMetric upserts add per dimension and read back as per-day series and per-id totals."""
from __future__ import annotations

from datetime import date

from analytics import rollup_store as store


def test_bump_adds_per_dimension_and_put_overwrites(db):
    d1, d2 = date(2026, 12, 1), date(2026, 12, 2)
    with db.write() as s:
        store.bump(s, d1, "new_friends", [store.COMPANY, ("user", 7), ("account", None)])
        store.bump(s, d1, "new_friends", [store.COMPANY, ("user", 7)], 2)
        store.bump(s, d2, "new_friends", [store.COMPANY, ("user", 8)])
    with db.read() as s:
        assert store.series(s, "new_friends", "company", [0], d1, date(2026, 12, 3)) == {d1: 3, d2: 1, date(2026, 12, 3): 0}
        assert store.totals(s, "new_friends", "user", d1, d2) == {7: 3, 8: 1}
    with db.write() as s:
        store.put(s, d1, "new_friends", {("user", 7): 5, store.COMPANY: 6})
    with db.read() as s:
        assert store.totals(s, "new_friends", "user", d1, d1) == {7: 5}
        assert store.series(s, "new_friends", "company", [0], d1, d1) == {d1: 6}
