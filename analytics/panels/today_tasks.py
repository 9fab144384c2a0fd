"""今日待办: my open tasks due today and the ones already overdue (任务中心), the first few of each
listed; the numbers open the task center's date board where these columns live."""
from __future__ import annotations

from sqlalchemy import and_, func
from sqlmodel import Session, col, select

from analytics.panels import register
from analytics.panels.base import Door, Panel, PanelContext
from crm.sales.models import Task
from crm.sales.task_dates import bucket_range
from crm.sales.tasks import OPEN_STATUSES, PRIORITY_LABELS
from crm.scope import tasks as task_scope

SHOWN = 6


@register
class TodayTasks(Panel):
    key = "today_tasks"
    title = "今日待办"
    permission = "worktasks.view"
    page = "worktasks.index"
    description = "今天到期与已过期的任务（任务中心）"

    def _bucket(self, session: Session, ctx: PanelContext, bucket: str) -> tuple[int, list[Task]]:
        low, high = bucket_range(bucket, ctx.now, ctx.tz)
        # (owner_id, status) is indexed: only this person's open tasks are read.
        where = [Task.owner_id == ctx.user_id, col(Task.status).in_(OPEN_STATUSES), task_scope(ctx.viewer)]
        where += ([Task.deadline >= low] if low is not None else []) + ([Task.deadline < high] if high is not None else [])
        total = session.exec(select(func.count()).select_from(Task).where(and_(*where))).one()
        rows = session.exec(select(Task).where(and_(*where)).order_by(Task.deadline, Task.id).limit(SHOWN)).all()
        return int(total), list(rows)

    def data(self, session: Session, ctx: PanelContext) -> dict:
        today_total, today = self._bucket(session, ctx, "today")
        overdue_total, overdue = self._bucket(session, ctx, "overdue")
        board = Door("worktasks.index", {"view": "date"})
        return {"today_total": today_total, "overdue_total": overdue_total, "priority_labels": PRIORITY_LABELS,
                "today": today, "overdue": overdue, "door": board, "shown": SHOWN}
