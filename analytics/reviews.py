"""周复盘 storage: one review per team and ISO week (the five sections of 卡若五步法), saved with the
week's figures as they stood, listed newest week first."""
from __future__ import annotations

from typing import Iterable, Optional

from sqlmodel import Session, col, select

from analytics.errors import AnalyticsError
from analytics.periods import Period
from analytics.review_models import REVIEW_SECTIONS, WeeklyReview
from analytics.scopes import Scope
from config.clock import utcnow

MAX_SECTION = 20_000
REVIEW_DIMS = ("department", "company")


def _week(period: Period) -> tuple[int, int]:
    year, week, _ = period.first.isocalendar()
    return year, week


def get(session: Session, scope: Scope, period: Period) -> Optional[WeeklyReview]:
    year, week = _week(period)
    return session.exec(select(WeeklyReview).where(
        WeeklyReview.dim == scope.dim, WeeklyReview.dim_id == scope.dim_id,
        WeeklyReview.iso_year == year, WeeklyReview.iso_week == week)).first()


def save(session: Session, scope: Scope, period: Period, sections: dict, figures: list[dict],
         author_id: Optional[int]) -> WeeklyReview:
    if scope.dim not in REVIEW_DIMS:
        raise AnalyticsError("周复盘按团队或全公司填写", {"dim": "请选择团队"})
    errors = {k: f"不能超过 {MAX_SECTION} 字" for k in REVIEW_SECTIONS if len(sections.get(k) or "") > MAX_SECTION}
    if errors:
        raise AnalyticsError("复盘内容过长", errors)
    if not any((sections.get(k) or "").strip() for k in REVIEW_SECTIONS):
        raise AnalyticsError("复盘内容不能全部为空", {"goals": "请至少填写一个部分"})
    review = get(session, scope, period)
    if review is None:
        year, week = _week(period)
        review = WeeklyReview(dim=scope.dim, dim_id=scope.dim_id, iso_year=year, iso_week=week)
    for key in REVIEW_SECTIONS:
        setattr(review, key, (sections.get(key) or "").strip())
    review.figures, review.author_id, review.saved_at = figures, author_id, utcnow()
    session.add(review)
    session.flush()
    return review


def listing(session: Session, scopes: Iterable[Scope], limit: int = 200) -> list[WeeklyReview]:
    """Reviews of the given teams, newest week first."""
    keys = {(s.dim, s.dim_id) for s in scopes}
    if not keys:
        return []
    stmt = (select(WeeklyReview).where(col(WeeklyReview.dim).in_({d for d, _ in keys}))
            .order_by(WeeklyReview.iso_year.desc(), WeeklyReview.iso_week.desc(), WeeklyReview.id.desc()))
    return [r for r in session.exec(stmt) if (r.dim, r.dim_id) in keys][:limit]
