"""常一起购买: customers who bought X also bought Y. Reads the strongest pairs of each product the
customer bought (recommend_co_purchase, cosine of buyer sets) and adds them up, a purchase made
long ago counting less (half weight after 90 days, never below a fifth)."""
from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlmodel import Session

from commerce.catalog.models import ProductSpu
from commerce.recommend.base import Hit, Profile, Signal, top
from commerce.recommend.models import RecommendCoPurchase

RECENT_PURCHASES = 50  # the most recent products bought are the seeds; older ones add little
HALF_LIFE_DAYS = 90.0
_PAIRS = (select(RecommendCoPurchase.spu_id, RecommendCoPurchase.other_id, RecommendCoPurchase.score)
          .where(RecommendCoPurchase.spu_id.in_(bindparam("seeds", expanding=True))))
_NAMES = select(ProductSpu.id, ProductSpu.name).where(ProductSpu.id.in_(bindparam("ids", expanding=True)))


def _freshness(profile: Profile, spu_id: int) -> float:
    if profile.now is None:
        return 1.0
    age = max((profile.now - profile.bought[spu_id]).total_seconds() / 86400.0, 0.0)
    return max(0.5 ** (age / HALF_LIFE_DAYS), 0.2)


class CoPurchase(Signal):
    key = "co_purchase"
    label = "常一起购买"
    weight = 0.45

    def candidates(self, session: Session, profile: Profile) -> dict[int, Hit]:
        if not profile.bought:
            return {}
        seeds = sorted(profile.bought, key=lambda s: profile.bought[s], reverse=True)[:RECENT_PURCHASES]
        fresh = {s: _freshness(profile, s) for s in seeds}
        rows = session.connection().execute(_PAIRS, {"seeds": seeds}).all()
        scores: dict[int, float] = {}
        best_seed: dict[int, tuple[float, int]] = {}
        for seed, other, score in rows:
            part = score * fresh[seed]
            scores[other] = scores.get(other, 0.0) + part
            if part > best_seed.get(other, (0.0, 0))[0]:
                best_seed[other] = (part, seed)
        hits = top({spu: Hit(score, "") for spu, score in scores.items()})
        seed_ids = sorted({best_seed[spu][1] for spu in hits})
        names = dict(session.connection().execute(_NAMES, {"ids": seed_ids}).all()) if seed_ids else {}
        for spu, hit in hits.items():
            hit.reason = f"常一起购买「{names.get(best_seed[spu][1], '已购商品')}」"
        return hits
