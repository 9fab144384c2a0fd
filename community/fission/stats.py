"""What the dashboard and the progress page show: totals by status, conversion, refusal reasons,
the referral tree per level, the daily trend (Beijing days via config.clock) and a participant's
progress against the stages."""
from __future__ import annotations

from collections import Counter
from typing import Optional

from sqlmodel import Session, col, func, select

from community.fission import participants
from community.fission.models import Campaign, Invitation, Participant, StageReward
from community.fission.settlement import progress
from config.clock import to_local


def summary(session: Session, campaign: Campaign) -> dict:
    by_status = dict(session.exec(select(Invitation.status, func.count()).where(Invitation.campaign_id == campaign.id)
                                  .group_by(Invitation.status)).all())
    people = session.exec(select(func.count()).select_from(Participant).where(Participant.campaign_id == campaign.id)).one()
    inviting = session.exec(select(func.count()).select_from(Participant).where(
        Participant.campaign_id == campaign.id, Participant.invited > 0)).one()
    rewards = session.exec(select(func.count()).select_from(StageReward).where(StageReward.campaign_id == campaign.id)).one()
    recorded = sum(n for s, n in by_status.items() if s != "refused")
    valid = by_status.get("valid", 0)
    return {"participants": people, "inviting": inviting, "invitations": recorded, "valid": valid,
            "pending": by_status.get("pending", 0), "lapsed": by_status.get("lapsed", 0),
            "refused": by_status.get("refused", 0), "rewards": rewards,
            "valid_rate": round(valid / recorded, 4) if recorded else 0.0,
            "share_rate": round(inviting / people, 4) if people else 0.0}


def refusal_reasons(session: Session, campaign_id: int) -> list[tuple[str, int]]:
    rows = session.exec(select(Invitation.reason, func.count()).where(
        Invitation.campaign_id == campaign_id, col(Invitation.status).in_(("refused", "lapsed")))
        .group_by(Invitation.reason).order_by(func.count().desc())).all()
    return [(r or "（未注明）", n) for r, n in rows]


def daily(session: Session, campaign_id: int, tz: str) -> dict:
    """Per local day: invitations recorded and valid ones (bounded to the campaign's rows)."""
    days: Counter = Counter()
    valid: Counter = Counter()
    for created, status in session.exec(select(Invitation.created_at, Invitation.status).where(
            Invitation.campaign_id == campaign_id, Invitation.status != "refused")):
        day = to_local(created, tz).strftime("%m-%d")
        days[day] += 1
        valid[day] += status == "valid"
    labels = sorted(days)
    return {"labels": labels, "invited": [days[d] for d in labels], "valid": [valid[d] for d in labels]}


def invitations(session: Session, campaign_id: int, status: Optional[str] = None, limit: int = 300) -> list[Invitation]:
    stmt = select(Invitation).where(Invitation.campaign_id == campaign_id).order_by(col(Invitation.id).desc()).limit(limit)
    if status:
        stmt = stmt.where(Invitation.status == status)
    return list(session.exec(stmt))


def participant_progress(session: Session, campaign: Campaign, participant: Participant) -> dict:
    done = progress(session, campaign, participant)
    rewarded = {r.stage_index for r in session.exec(select(StageReward).where(StageReward.participant_id == participant.id))}
    stages = [{"name": s.get("name") or f"满 {s['threshold']} 人", "threshold": int(s["threshold"]),
               "reached": done >= int(s["threshold"]), "rewarded": i in rewarded}
              for i, s in enumerate(campaign.stages or [])]
    rows = participants.children(session, participant.id)
    pending = sum(1 for i, _p in rows if i.status == "pending")
    goal = next((s["threshold"] for s in stages if not s["reached"]), stages[-1]["threshold"] if stages else 0)
    return {"progress": done, "pending": pending, "stages": stages, "goal": goal,
            "percent": min(100, int(done * 100 / goal)) if goal else 100,
            "invitations": [i for i, _p in rows]}
