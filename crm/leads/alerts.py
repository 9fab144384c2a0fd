"""场景获客 alerts: intake in trouble tells someone, once per episode (events/episodes.py), through
events strategies act on (notify the scene owner, send an SMS or mail):

- lead.deadletter_piling — open 线索死信 (status open) at or above CKB_LEAD_ALERT_DEADLETTERS;
- lead.callbacks_refused — refused platform callbacks (WebhookRejection.hits) in the last hour at or
  above CKB_LEAD_ALERT_REFUSED_PER_HOUR;
- lead.pull_failing — a polling scene (订单同步 / 抖音粉丝同步) failed CKB_LEAD_ALERT_PULL_FAILURES times
  in a row (PullCursor.failures); one episode per scene.

An episode closes when its figure drops below the threshold (dead letters redriven or discarded, an
hour without refusals, a good poll), and the next crossing raises a new event."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func
from sqlmodel import Session, select

from config.clock import as_utc
from crm.events_out import emit
from crm.leads.models import LeadDeadLetter, LeadScene, PullCursor, WebhookRejection
from crm.leads.stats import REJECTION_REASONS
from events.builtin import LEAD_ALERT_EVENT_KEYS
from events.definitions import ensure_builtin
from events.episodes import AlertState, track

SOURCE = "lead"


def _raise(session: Session, code: str, subject: str, episode: int, data: dict, tz: str, now) -> None:
    emit(session, code, {**data, "episode": episode}, tz, source=SOURCE,
         event_id=f"alert:{code}:{subject}:{episode}", now=now)


def check_dead_letters(session: Session, threshold: int, tz: str, now) -> bool:
    rows = session.exec(select(LeadDeadLetter.scene_id, func.count()).where(LeadDeadLetter.status == "open")
                        .group_by(LeadDeadLetter.scene_id)).all()
    total = sum(n for _, n in rows)
    episode = track(session, "lead.deadletter_piling", "all", total >= threshold, total, now)
    if episode:
        names = dict(session.exec(select(LeadScene.id, LeadScene.name)).all())
        by_scene = [{"scene_id": sid, "scene_name": names.get(sid, "未识别场景"), "count": n}
                    for sid, n in sorted(rows, key=lambda r: -r[1])]
        _raise(session, "lead.deadletter_piling", "all", episode,
               {"open_count": total, "threshold": threshold, "by_scene": by_scene}, tz, now)
    return bool(episode)


def check_refused_callbacks(session: Session, threshold: int, tz: str, now) -> bool:
    rows = session.exec(select(WebhookRejection.reason, func.sum(WebhookRejection.hits))
                        .where(WebhookRejection.created_at >= now - timedelta(hours=1))
                        .group_by(WebhookRejection.reason)).all()
    total = int(sum(n or 0 for _, n in rows))
    episode = track(session, "lead.callbacks_refused", "all", total >= threshold, total, now)
    if episode:
        by_reason = [{"reason": r, "label": REJECTION_REASONS.get(r, r), "count": int(n or 0)}
                     for r, n in sorted(rows, key=lambda r: -(r[1] or 0))]
        _raise(session, "lead.callbacks_refused", "all", episode,
               {"count": total, "threshold": threshold, "by_reason": by_reason}, tz, now)
    return bool(episode)


def check_pull_failures(session: Session, threshold: int, tz: str, now) -> int:
    raised = 0
    cursors = session.exec(select(PullCursor, LeadScene.name).join(LeadScene, LeadScene.id == PullCursor.scene_id)).all()
    watched = {f"scene:{c.scene_id}" for c, _ in cursors}
    for cursor, name in cursors:
        subject = f"scene:{cursor.scene_id}"
        episode = track(session, "lead.pull_failing", subject, cursor.failures >= threshold, cursor.failures, now)
        if episode:
            _raise(session, "lead.pull_failing", subject, episode,
                   {"scene_id": cursor.scene_id, "scene_name": name, "failures": cursor.failures,
                    "last_error": (cursor.last_error or "")[:500], "threshold": threshold}, tz, now)
            raised += 1
    # a scene that was deleted while failing: its episode closes
    for state in session.exec(select(AlertState).where(AlertState.key == "lead.pull_failing",
                                                       AlertState.is_open.is_(True))).all():
        if state.subject not in watched:
            track(session, "lead.pull_failing", state.subject, False, 0, now)
    return raised


def check_alerts(services) -> dict:
    """The cron job: every check in one short transaction; returns what was raised."""
    settings, now = services.settings, as_utc(services.now())
    with services.db.write() as session:
        ensure_builtin(session, LEAD_ALERT_EVENT_KEYS)
        return {"deadletters": check_dead_letters(session, settings.lead_alert_deadletters, settings.timezone, now),
                "callbacks": check_refused_callbacks(session, settings.lead_alert_refused_per_hour, settings.timezone, now),
                "pulls": check_pull_failures(session, settings.lead_alert_pull_failures, settings.timezone, now)}
