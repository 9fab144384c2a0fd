"""同类客户热销: what customers sharing this customer's tags bought lately (recommend_popularity,
recency-weighted share of each segment's buyers), averaged by the customer's tag weights; the
whole customer base (segment 0) adds a quarter as 近期热销 so a customer without tags still gets
something sensible."""
from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlmodel import Session

from commerce.recommend.base import Hit, Profile, Signal, top
from commerce.recommend.models import RecommendPopularity

EVERYONE = 0  # the segment of all customers
EVERYONE_SHARE = 0.25
_ROWS = (select(RecommendPopularity.tag_id, RecommendPopularity.spu_id, RecommendPopularity.score)
         .where(RecommendPopularity.tag_id.in_(bindparam("segments", expanding=True))))


class SegmentPopularity(Signal):
    key = "segment_popular"
    label = "同类客户热销"
    weight = 0.30

    def candidates(self, session: Session, profile: Profile) -> dict[int, Hit]:
        segments = list(profile.tags) + [EVERYONE]
        rows = session.connection().execute(_ROWS, {"segments": segments}).all()
        total_weight = sum(profile.tags.values()) or 1.0
        own: dict[int, float] = {}
        everyone: dict[int, float] = {}
        for tag_id, spu_id, score in rows:
            if tag_id == EVERYONE:
                everyone[spu_id] = EVERYONE_SHARE * score
            else:
                own[spu_id] = own.get(spu_id, 0.0) + profile.tags[tag_id] * score / total_weight
        hits = {}
        for spu in own.keys() | everyone.keys():
            mine, all_ = own.get(spu, 0.0), everyone.get(spu, 0.0)
            hits[spu] = Hit(mine + all_, "同类客户热销" if mine >= all_ else "近期热销")
        return top(hits)
