"""命中标签: products aimed at the customer's tags. A product aims at the tags of its 目标客户群
and, more weakly, at its own product tags (recommend_product_tag, weights set by refresh: a
product aimed at many tags gets less from each, so "for everyone" is not "for you"). The score
is Σ customer tag weight × product tag weight over the tags both share."""
from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlmodel import Session

from commerce.recommend.base import Hit, Profile, Signal, top
from commerce.recommend.models import RecommendProductTag

WEIGHT_SCALE = 1000.0  # RecommendProductTag.weight is stored ×1000 as an integer
# Built once: ranking runs per request, and building the expression costs more than running it.
_ROWS = (select(RecommendProductTag.spu_id, RecommendProductTag.tag_id, RecommendProductTag.weight)
         .where(RecommendProductTag.tag_id.in_(bindparam("tags", expanding=True))))


class TagAffinity(Signal):
    key = "tag_affinity"
    label = "标签匹配"
    weight = 0.25

    def candidates(self, session: Session, profile: Profile) -> dict[int, Hit]:
        if not profile.tags:
            return {}
        rows = session.connection().execute(_ROWS, {"tags": list(profile.tags)}).all()
        scores: dict[int, float] = {}
        matched: dict[int, list[tuple[float, int]]] = {}
        for spu_id, tag_id, weight in rows:
            part = profile.tags[tag_id] * weight / WEIGHT_SCALE
            scores[spu_id] = scores.get(spu_id, 0.0) + part
            matched.setdefault(spu_id, []).append((part, tag_id))
        hits = {spu: Hit(score, "") for spu, score in scores.items()}
        hits = top(hits)
        for spu, hit in hits.items():  # names only for the survivors
            names = [profile.tag_names.get(t, str(t)) for _, t in sorted(matched[spu], key=lambda p: (-p[0], p[1]))[:3]]
            hit.reason = f"命中标签「{'、'.join(names)}」"
        return hits
