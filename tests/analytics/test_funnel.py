"""Funnel and cohort retention equal an independent computation from the generated rows, with filters."""
from __future__ import annotations

from statistics import median

import pytest

from analytics import cohorts, funnel, rfm, segments
from analytics.errors import AnalyticsError
from config.clock import to_local
from crm.scope import SYSTEM
from tests.analytics.lifecycle_data import NOW, build


@pytest.fixture
def world(db):
    w = build(db, n=150, seed=5)
    with db.write() as s:
        rfm.refresh_scores(s, NOW)
    return w


def _keep(p, seg):
    first = min(p.contacts) if p.contacts else None
    return (p.status == "active" and (seg.channel_id is None or p.channel_id == seg.channel_id)
            and (seg.scene_id is None or p.scene_id == seg.scene_id)
            and (seg.group_id is None or seg.group_id in p.groups)
            and (not seg.cohort or (first and to_local(first).strftime("%Y-%m") == seg.cohort)))


def _expected(world, seg):
    rows = [p for p in world.people if _keep(p, seg) and p.contacts]
    firsts = [p for p in rows if p.purchases]
    repeats = [p for p in rows if len(p.purchases) >= 2]
    gap = [(min(t for t, _ in p.purchases) - min(p.contacts)).total_seconds() / 3600 for p in firsts]
    gap2 = [(sorted(t for t, _ in p.purchases)[1] - min(t for t, _ in p.purchases)).total_seconds() / 3600
            for p in repeats]
    return ([len(rows), len(firsts), len(repeats)], round(median([g for g in gap if g >= 0]), 1),
            round(median(gap2), 1) if gap2 else None, {p.id for p in firsts})


@pytest.mark.parametrize("filters", [{}, {"channel": 0}, {"scene": 1}, {"group": 0}, {"cohort": True}])
def test_funnel_counts_and_medians_match(db, world, filters):
    months = sorted({to_local(min(p.contacts)).strftime("%Y-%m") for p in world.people if p.contacts})
    seg = segments.Segment(kind="funnel", step="contact",
                           channel_id=world.channels[filters["channel"]] if "channel" in filters else None,
                           scene_id=world.scenes[filters["scene"]] if "scene" in filters else None,
                           group_id=world.groups[filters["group"]] if "group" in filters else None,
                           cohort=months[len(months) // 2] if "cohort" in filters else "")
    counts, med1, med2, first_ids = _expected(world, seg)
    with db.read() as s:
        got = funnel.compute(s, SYSTEM, seg)
        listed = segments.customer_ids(s, segments.Segment(**{**seg.__dict__, "step": "first"}), SYSTEM)
    assert [st["count"] for st in got["steps"]] == counts
    assert counts[0] > counts[1] > 0
    assert got["steps"][1]["step_rate"] == pytest.approx(counts[1] / counts[0])
    assert got["median_hours"]["contact_to_first"] == med1
    assert got["median_hours"]["first_to_repeat"] == med2
    assert sorted(listed) == sorted(first_ids)  # the step's door lists exactly its customers


def test_cohort_retention_matches(db, world):
    today = to_local(NOW).date()
    with db.read() as s:
        table = cohorts.retention(s, SYSTEM, segments.Segment(kind="funnel", step="contact"), today, months=8)
    def idx(m): return int(m[:4]) * 12 + int(m[5:]) - 1
    for row in table["rows"]:
        members = [p for p in world.people if p.status == "active" and p.contacts
                   and to_local(min(p.contacts)).strftime("%Y-%m") == row["month"]]
        assert row["size"] == len(members)
        for cell in row["cells"]:
            if cell is None:
                continue
            want = sum(1 for p in members if any(idx(to_local(t).strftime("%Y-%m")) - idx(row["month"]) == cell["offset"]
                                                for t, _ in p.purchases))
            assert cell["count"] == want, (row["month"], cell["offset"])
            with db.read() as s:
                ids = segments.customer_ids(s, segments.parse(cell["params"], today), SYSTEM)
            assert len(ids) == want
    assert any(c and c["count"] for r in table["rows"] for c in r["cells"])
    assert table["rows"][-1]["cells"][1] is None  # next month is in the future


@pytest.mark.parametrize("args, field", [({"kind": "nope"}, "kind"), ({"kind": "rfm", "key": "x"}, "key"),
                                         ({"kind": "funnel", "step": "x"}, "step"),
                                         ({"kind": "buyers", "start": "2026-13-01"}, "start"),
                                         ({"kind": "buyers", "start": "2025-01-01", "end": "2026-11-01"}, "start"),
                                         ({"kind": "cohort", "cohort": "2026/1", "offset": "1"}, "cohort"),
                                         ({"channel_id": "abc"}, "channel_id")])
def test_bad_filters_are_refused(args, field):
    with pytest.raises(AnalyticsError) as err:
        segments.parse(args, to_local(NOW).date())
    assert field in err.value.errors
