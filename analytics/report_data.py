"""One call per report page or API answer: resolve whose figures (within the viewer's scope), the
period, then the KPI figures, the trend, the ranking one level down and (weekly) the saved review."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Optional

from sqlmodel import Session

from analytics import periods, reports, reviews, scopes
from analytics.errors import AnalyticsError
from analytics.kpis import DAILY, MONTHLY, MORE, RANKING, kpi
from analytics.periods import Period
from analytics.review_models import WeeklyReview
from analytics.scopes import Scope, Visible
from crm.scope import Viewer

KPIS = {"day": DAILY, "week": DAILY, "month": MONTHLY}
TREND = {"day": ["new_friends", "effective_friends", "consulted", "buyers"],
         "week": ["new_friends", "effective_friends", "consulted", "buyers"],
         "month": ["new_friends", "active_friends", "consulted", "buyers"]}


@dataclass
class ReportData:
    kind: str
    scope: Scope
    period: Period
    visible: Visible
    figures: list
    more: list
    trend: dict
    trend_days: list
    ranking: list
    ranking_metrics: list = field(default_factory=lambda: list(RANKING))
    review: Optional[WeeklyReview] = None
    errors: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        """The API's shape: plain JSON, money in 分, rates in %."""
        return {
            "period": {"kind": self.kind, "key": self.period.key, "first": self.period.first.isoformat(),
                       "last": self.period.last.isoformat(), "label": self.period.label},
            "scope": {"dim": self.scope.dim, "id": self.scope.dim_id, "name": self.scope.name},
            "kpis": [f.as_dict() for f in self.figures],
            "more": [f.as_dict() for f in self.more],
            "trend": {m: [{"day": d.isoformat(), "value": v} for d, v in series.items()]
                      for m, series in self.trend.items()},
            "ranking": [{"dim": r["scope"].dim, "id": r["scope"].dim_id, "name": r["scope"].name, **r["values"]}
                        for r in self.ranking],
            "review": review_dict(self.review),
        }


def review_dict(review: Optional[WeeklyReview]) -> Optional[dict]:
    if review is None:
        return None
    return {"iso_year": review.iso_year, "iso_week": review.iso_week, "goals": review.goals, "process": review.process,
            "reflection": review.reflection, "summary": review.summary, "actions": review.actions,
            "author_id": review.author_id, "saved_at": review.saved_at.isoformat()}


def build(session: Session, viewer: Viewer, kind: str, dim: Optional[str], dim_id: Optional[int],
          period_text: Optional[str], today: date, strict: bool = False) -> ReportData:
    """ScopeNotFound for a scope outside the viewer's; a bad period raises AnalyticsError when
    `strict` (the API) and otherwise falls back to the current period with the error kept."""
    seen = scopes.visible(session, viewer)
    scope = scopes.resolve(session, viewer, dim, dim_id, seen)
    errors: dict = {}
    try:
        period = periods.parse(kind, period_text, today)
    except AnalyticsError as exc:  # shown next to the period field
        if strict:
            raise
        errors = exc.errors
        period = periods.parse(kind, None, today)
    figures = reports.figures(session, scope, period, KPIS[kind])
    more = reports.figures(session, scope, period, MORE) if kind != "month" else \
        reports.figures(session, scope, period, [k for k in DAILY + MORE if k not in MONTHLY])
    first, last = reports.trend_window(period)
    trend = reports.trend(session, scope, TREND[kind], first, last)
    ranking = reports.ranking(session, scopes.members(session, scope, seen), period, RANKING)
    review = reviews.get(session, scope, period) if kind == "week" and scope.dim in reviews.REVIEW_DIMS else None
    return ReportData(kind, scope, period, seen, figures, more, trend,
                      [first.fromordinal(o) for o in range(first.toordinal(), last.toordinal() + 1)],
                      ranking, review=review, errors=errors)


def ranking_labels() -> list[str]:
    return [kpi(m).label for m in RANKING]
