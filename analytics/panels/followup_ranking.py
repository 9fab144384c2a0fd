"""昨日跟进排名: yesterday's (Beijing day) 跟进次数 per staff member from the followups rollup.
Whom the list names follows the report permissions: 全公司 with reports.view_all, the viewer's
departments with reports.view_department, otherwise only the viewer's own line and place."""
from __future__ import annotations

from sqlmodel import Session, col, select

from analytics import rollup_store
from analytics.panels import register
from analytics.panels.base import Door, Panel, PanelContext, bar_option
from crm.people.models import User, UserDepartment

SHOWN = 10


def department_colleagues(session: Session, user_id: int) -> set[int]:
    """Everyone sharing a department with the user (the user included)."""
    mine = select(UserDepartment.department_id).where(UserDepartment.user_id == user_id)
    return set(session.exec(select(UserDepartment.user_id).where(col(UserDepartment.department_id).in_(mine))).all()) | {user_id}


@register
class FollowupRanking(Panel):
    key = "followup_ranking"
    title = "昨日跟进排名"
    permission = "reports.view"
    page = "worktasks.followups"
    description = "昨天每位员工的跟进次数排名"

    def data(self, session: Session, ctx: PanelContext) -> dict:
        day = ctx.yesterday
        counts = rollup_store.totals(session, "followups", "user", day, day)
        if ctx.viewer.has("reports.view_all"):
            pool, named = None, None
        else:
            pool = department_colleagues(session, ctx.user_id)
            named = pool if ctx.viewer.has("reports.view_department") else {ctx.user_id}
        ranked = sorted(((uid, n) for uid, n in counts.items() if n > 0 and (pool is None or uid in pool)),
                        key=lambda r: (-r[1], r[0]))
        place = next((i + 1 for i, (uid, _) in enumerate(ranked) if uid == ctx.user_id), None)
        rows = [(uid, n) for uid, n in ranked if named is None or uid in named][:SHOWN]
        names = {u.id: u.display_name or u.username for u in
                 session.exec(select(User).where(col(User.id).in_([uid for uid, _ in rows]))).all()} if rows else {}
        return {"day": day, "rows": [{"user_id": uid, "name": names.get(uid, f"#{uid}"), "count": n, "me": uid == ctx.user_id}
                                     for uid, n in rows],
                "mine": counts.get(ctx.user_id, 0), "place": place, "ranked": len(ranked),
                "scope": "全公司" if pool is None else "本部门", "door": Door("worktasks.followups", {})}

    def chart(self, data: dict, link) -> dict | None:
        if len(data["rows"]) < 2:  # one line reads better as a number than as a chart
            return None
        return bar_option([(r["name"], r["count"], None) for r in data["rows"]], "跟进次数")
