"""Settlement after the hold period: pending invitations whose hold has ended become valid (or
lapse when the friend is gone after all), participants' progress is recounted, and each stage a
participant has reached becomes one StageReward row (UNIQUE per participant and stage, so a
re-run never rewards twice). The caller (engine.fission) turns new rows into executor steps.

Progress per type: 邀请有礼 / 群裂变 / 分销裂变 count valid invitations; 拼团 counts buyers in the
participant's team (the participant and their valid invitees with a paid order in the window).
分销裂变 also credits commission on invitees' paid orders and reverses it on refund."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, func, select

from community import commission
from community.fission import participants
from community.fission.models import Campaign, Invitation, Participant, StageReward
from config.clock import as_utc
from config.dialect_insert import insert_for
from devices.models import Friend

PAID_STATES = ("paid", "shipped", "completed")
BATCH = 2000
ENDED_GRACE = timedelta(days=30)  # ended campaigns still settle invitations made before the end


@dataclass
class Reached:
    reward_id: int
    campaign: Campaign
    participant: Participant
    stage_index: int
    stage: dict
    progress: int


@dataclass
class Settled:
    valid: int = 0
    lapsed: int = 0
    commissions: int = 0
    reversed: int = 0


def _validate_due(session: Session, now: datetime, tally: Settled) -> set[int]:
    due = list(session.exec(select(Invitation).where(Invitation.status == "pending", Invitation.hold_until <= now)
                            .order_by(Invitation.hold_until, Invitation.id).limit(BATCH)))
    touched = set()
    for row in due:
        gone = row.channel == "friend" and session.exec(select(Friend.id).where(
            Friend.account_id == row.account_id, Friend.wxid == row.invitee_wxid,
            col(Friend.deleted_at).is_(None))).first() is None
        row.settled_at = now
        if gone:
            row.status, row.reason = "lapsed", "考察期结束时已不是好友"
            tally.lapsed += 1
        else:
            row.status = "valid"
            participants.bump(session, row.participant_id, valid=1)
            touched.add(row.participant_id)
            tally.valid += 1
        session.add(row)
    session.flush()
    return touched


def team_buyers(session: Session, campaign: Campaign, participant: Participant) -> int:
    from commerce.orders.models import SalesOrder

    members = [participant.customer_id] + [c for c in session.exec(select(Invitation.invitee_customer_id).where(
        Invitation.participant_id == participant.id, Invitation.status == "valid")) if c]
    return session.exec(select(func.count(func.distinct(SalesOrder.customer_id))).where(
        col(SalesOrder.customer_id).in_(members), col(SalesOrder.status).in_(PAID_STATES),
        SalesOrder.paid_at >= campaign.starts_at, SalesOrder.paid_at < campaign.ends_at)).one()


def progress(session: Session, campaign: Campaign, participant: Participant) -> int:
    return team_buyers(session, campaign, participant) if campaign.kind == "team" else participant.valid


def _stages(session: Session, campaign: Campaign, participant: Participant, now: datetime) -> list[Reached]:
    done = progress(session, campaign, participant)
    out = []
    for index, stage in enumerate(campaign.stages or []):
        if done < int(stage.get("threshold") or 0):
            break
        new_id = session.execute(insert_for(session)(StageReward.__table__).values(
            campaign_id=campaign.id, participant_id=participant.id, customer_id=participant.customer_id,
            stage_index=index, stage_name=str(stage.get("name") or "")[:100],
            processor_key=str(stage.get("processor") or "")[:64], created_at=now)
            .on_conflict_do_nothing(index_elements=["participant_id", "stage_index"])
            .returning(StageReward.__table__.c.id)).scalar()
        if new_id is not None:
            out.append(Reached(new_id, campaign, participant, index, stage, done))
    return out


def _commissions(session: Session, campaign: Campaign, now: datetime, tally: Settled) -> None:
    from commerce.orders.models import SalesOrder

    rows = session.exec(select(SalesOrder, Invitation, Participant)
                        .join(Invitation, Invitation.invitee_customer_id == SalesOrder.customer_id)
                        .join(Participant, Participant.id == Invitation.participant_id)
                        .where(Invitation.campaign_id == campaign.id, Invitation.status == "valid",
                               col(SalesOrder.paid_at).is_not(None), SalesOrder.paid_at >= Invitation.created_at,
                               SalesOrder.paid_at < campaign.ends_at)).all()
    for order, invitation, inviter in rows:
        ref = f"order:{order.id}:campaign:{campaign.id}"
        if order.status == "refunded" or order.refunded_fen >= order.paid_fen > 0:
            tally.reversed += commission.reverse_for_order(session, order.id, f"订单 {order.order_no} 已退款")
            continue
        amount = (order.paid_fen - order.refunded_fen) * campaign.commission_bp // 10000
        _entry, new = commission.credit(
            session, amount_fen=amount, source="fission", source_ref=ref, order_id=order.id, campaign_id=campaign.id,
            beneficiary_customer_id=inviter.customer_id, settle_after=as_utc(order.paid_at) + timedelta(hours=campaign.hold_hours),
            reason=f"分销裂变「{campaign.name}」：邀请的客户下单 {order.order_no}", now=now)
        tally.commissions += int(new)


def settle(session: Session, now: datetime) -> tuple[Settled, list[Reached]]:
    tally = Settled()
    touched = _validate_due(session, now, tally)
    reached: list[Reached] = []
    recent = [c for c in session.exec(select(Campaign).where(col(Campaign.status).in_(("active", "ended"))))
              if as_utc(c.ends_at) + ENDED_GRACE > now]
    for campaign in recent:
        if campaign.kind == "distribution" and campaign.commission_bp:
            _commissions(session, campaign, now, tally)
        # 拼团: orders move progress without an invitation, so every team is recounted
        ids = None if campaign.kind == "team" else [p for p in touched if p is not None]
        if ids == []:
            continue
        stmt = select(Participant).where(Participant.campaign_id == campaign.id)
        if ids is not None:
            stmt = stmt.where(col(Participant.id).in_(ids))
        for participant in session.exec(stmt).all():
            session.refresh(participant)
            reached += _stages(session, campaign, participant, now)
    commission.settle_due(session, now)
    return tally, reached
