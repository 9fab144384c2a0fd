"""RFM: scores, segments, counts and amounts equal an independent computation from the generated rows;
fixed cut points; the segment is one SQL clause that lists exactly its customers."""
from __future__ import annotations

import pytest
from sqlmodel import select

from analytics import rfm, segments
from analytics.errors import AnalyticsError
from analytics.score_models import CustomerScore, RfmRun
from config.clock import to_local
from crm.scope import SYSTEM
from tests.analytics.lifecycle_data import NOW, build


def _expected(world, cuts):
    today = to_local(NOW).date()
    out = {}
    for p in world.people:
        if not p.purchases:
            continue
        last = max(t for t, _ in p.purchases)
        days = (today - to_local(last).date()).days
        r = 1 + sum(days <= c for c in cuts["r"])
        f = 1 + sum(len(p.purchases) > c for c in cuts["f"])
        m = 1 + sum(sum(a for _, a in p.purchases) > c for c in cuts["m"])
        high = tuple(x >= 3 for x in (r, f, m))
        key = next(k for k, (_, *flags) in rfm.SEGMENTS.items() if tuple(flags) == high)
        out[p.id] = (r, f, m, key, sum(a for _, a in p.purchases))
    return out


def _quintiles(values):
    v = sorted(values)
    return [v[min(len(v) - 1, int(len(v) * q))] for q in (0.2, 0.4, 0.6, 0.8)]


def test_quintile_scores_and_segments_match_an_independent_computation(db):
    world = build(db)
    with db.write() as s:
        run = rfm.refresh_scores(s, NOW)
    today = to_local(NOW).date()
    buyers = [p for p in world.people if p.purchases]
    cuts = {"r": _quintiles([(today - to_local(max(t for t, _ in p.purchases)).date()).days for p in buyers]),
            "f": _quintiles([len(p.purchases) for p in buyers]),
            "m": _quintiles([sum(a for _, a in p.purchases) for p in buyers])}
    assert run.cuts == {"mode": "quintile", **cuts} and run.buyers == len(buyers) == len(world.people) - sum(
        1 for p in world.people if not p.purchases)
    expected = _expected(world, cuts)
    with db.read() as s:
        rows = {r.customer_id: r for r in s.exec(select(CustomerScore))}
        summary = {r["key"]: r for r in rfm.summary(s, segments.in_scope_scores(SYSTEM))}
    assert {cid: (r.r_score, r.f_score, r.m_score, r.segment, r.monetary_fen) for cid, r in rows.items()
            if r.segment} == expected
    active = {p.id for p in world.people if p.status == "active"}
    for key in rfm.SEGMENTS:
        members = [cid for cid, e in expected.items() if e[3] == key and cid in active]
        assert summary[key]["customers"] == len(members), key
        assert summary[key]["amount_fen"] == sum(expected[c][4] for c in members), key
    assert sum(1 for r in summary.values() if r["customers"]) >= 4  # the population spreads over segments


def test_fixed_cut_points_are_kept_for_the_next_pass(db):
    world = build(db, n=60, seed=3)
    cuts = rfm.clean_cuts("fixed", {"r": ["30", "60", "90", "180"], "f": [1, 2, 3, 4], "m": [5000, 10000, 20000, 40000]})
    with db.write() as s:
        rfm.refresh_scores(s, NOW, cuts=cuts)
    with db.write() as s:
        again = rfm.refresh_scores(s, NOW)  # the nightly pass: same choice
        assert again.cuts == cuts
        assert s.exec(select(RfmRun)).all()[0].cuts == cuts
    expected = _expected(world, cuts)
    with db.read() as s:
        got = {r.customer_id: (r.r_score, r.f_score, r.m_score, r.segment, r.monetary_fen)
               for r in s.exec(select(CustomerScore).where(CustomerScore.segment != ""))}
    assert got == expected


@pytest.mark.parametrize("raw", [{"r": [1, 2, 3]}, {"r": [4, 3, 2, 1], "f": [1, 2, 3, 4], "m": [1, 2, 3, 4]},
                                 {"r": ["a", 1, 2, 3], "f": [1, 2, 3, 4], "m": [1, 2, 3, 4]}])
def test_bad_cut_points_are_refused_naming_the_measure(raw):
    with pytest.raises(AnalyticsError) as err:
        rfm.clean_cuts("fixed", raw)
    assert "r" in err.value.errors
    with pytest.raises(AnalyticsError):
        rfm.clean_cuts("median", {})


def test_segment_clause_lists_exactly_its_customers(db):
    world = build(db, n=80, seed=11)
    with db.write() as s:
        run = rfm.refresh_scores(s, NOW)
    expected = _expected(world, run.cuts)
    active = {p.id for p in world.people if p.status == "active"}
    with db.read() as s:
        for key in rfm.SEGMENTS:
            ids = segments.customer_ids(s, segments.Segment(kind="rfm", key=key), SYSTEM)
            assert ids == sorted(c for c, e in expected.items() if e[3] == key and c in active)
            assert segments.count(s, segments.Segment(kind="rfm", key=key), SYSTEM) == len(ids)
