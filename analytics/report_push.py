"""每日数据报表 pushed to each person (seed 002 §5.1: read at 09:00 and 17:00) as a 站内通知 with
their own figures against their targets and a link to the page. A push before noon reports the
whole previous day; a later one reports today so far. Times: CKB_REPORT_PUSH_TIMES (HH:MM list,
configured zone).

E-mail goes through the one door like every other mail: with CKB_REPORT_PUSH_EMAIL on, each
person who has an e-mail address also gets an `analytics.daily_report` event (subject, text,
address) that a strategy sends with the 发送邮件 processor — retries, outbox and history included.

A push is idempotent per person, day and slot (the notification's source), so a cron run repeated
after a crash does not notify twice."""
from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Optional

from sqlmodel import select

from analytics import reports
from analytics.kpis import DAILY
from analytics.periods import day_of as day_period
from analytics.rollups import day_of
from analytics.scopes import Scope
from config.clock import to_local
from config.timewindow import clock_time
from crm.events_out import emit
from crm.people.models import Notification, User
from crm.people.notifications import users_with_permission
from events.definitions import import_builtin

EVENT = {"key": "analytics_daily_report", "code": "analytics.daily_report", "name": "每日数据报表",
         "remark": "每日数据报表推送时，为有邮箱的员工各发一条（绑定「发送邮件」策略即可邮件推送）",
         "fields": [{"name": "user_id", "type": "number", "label": "员工ID", "required": True},
                    {"name": "email", "type": "text", "label": "邮箱", "required": True},
                    {"name": "day", "type": "text", "label": "报表日期", "required": True},
                    {"name": "subject", "type": "text", "label": "邮件标题"},
                    {"name": "text", "type": "text", "label": "报表正文"}]}


def push_times(text: str) -> list[time]:
    """CKB_REPORT_PUSH_TIMES parsed ("09:00,17:00"); a typo fails at start-up, not silently at 9."""
    out = sorted({clock_time(part.strip()) for part in (text or "").split(",") if part.strip()})
    return out


def report_day(now: datetime, tz: Optional[str] = None):
    local = to_local(now, tz)
    return local.date() if local.time() >= time(12, 0) else local.date() - timedelta(days=1)


def body(figures: list[reports.Figure]) -> str:
    lines = []
    for f in figures:
        line = f"{f.label}：{f.text('actual')}"
        if f.target is not None:
            line += f"（目标 {f.text('target')}，达成率 {f.achieved if f.achieved is not None else '—'}%）"
        lines.append(line)
    return "\n".join(lines)


def push(services, now: datetime, slot: str) -> int:
    """Notifies every enabled person holding reports.view; returns how many were notified."""
    tz = services.settings.timezone
    day = report_day(now, tz)
    period = day_period(day)
    source = f"report_push:{day.isoformat()}:{slot}"[:64]
    done = 0
    for user_id in users_with_permission(services.db, "reports.view"):
        with services.db.write() as session:
            if session.exec(select(Notification.id).where(Notification.user_id == user_id,
                                                          Notification.source == source)).first():
                continue
            user = session.get(User, user_id)
            scope = Scope("user", user_id, user.display_name or user.username)
            figures = reports.figures(session, scope, period, DAILY)
            so_far = "（截至当前）" if day == day_of(now, tz) else ""
            title = f"每日数据报表 {day.strftime('%m-%d')}{so_far}"
            text = body(figures)
            session.add(Notification(user_id=user_id, title=title, body=text, source=source, created_at=now,
                                     link=f"/reports/daily?day={day.isoformat()}&dim=user&id={user_id}"))
            if services.settings.report_push_email and user.email:
                import_builtin(session, ["analytics_daily_report"], extra=[EVENT])
                emit(session, EVENT["code"], {"user_id": user_id, "email": user.email, "day": day.isoformat(),
                                              "subject": f"{title} · {scope.name}", "text": text},
                     tz, source="analytics", event_id=f"daily_report:{user_id}:{day.isoformat()}:{slot}", now=now)
            done += 1
    return done
