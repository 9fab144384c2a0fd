"""近期热销 (everyone): the best sellers across all customers, recency-weighted. Not part of the
blend (segment_popular already carries a share of it); it is the popularity baseline the offline
evaluation measures the blend against, kept as a signal so both run through the same ranker."""
from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session

from commerce.recommend.base import Hit, Profile, Signal, top
from commerce.recommend.models import RecommendPopularity
from commerce.recommend.segment_popularity import EVERYONE


_ROWS = select(RecommendPopularity.spu_id, RecommendPopularity.score).where(RecommendPopularity.tag_id == EVERYONE)


class PopularAll(Signal):
    key = "popular_all"
    label = "近期热销"
    weight = 1.0

    def candidates(self, session: Session, profile: Profile) -> dict[int, Hit]:
        rows = session.connection().execute(_ROWS).all()
        return top({spu: Hit(score, "近期热销") for spu, score in rows})
