"""Attribution with anti-fraud: a person arriving with a participant's code becomes an invitation.

Arrivals: a new friend of a pool account whose report carries the code in `state`/`source`
("fis-<code>"), a new member of a campaign group with an `inviter_wxid`, or an H5 visitor with a
signed link. Each is checked in order, and a refusal is kept with its reason (never dropped):
  邀请码无效 / 活动未进行 · 不能邀请自己 · 活动开始前已是好友/群成员/客户 (new people only) ·
  该用户已被邀请过 (dedup by wxid / unionid / phone across all participants) · 已是活动参与者.
An accepted invitation is `pending` until its hold period ends (settlement decides valid/lapsed);
the invitee becomes a participant one level down (unless the depth cap stops the tree there).
Re-sent reports carry the same `ref` and change nothing."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Optional

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from community.fission import participants
from community.fission.models import Campaign, Invitation, Participant
from community.rewards.members import find_customer
from config.clock import as_utc
from crm.customers.models import Customer
from devices.models import ChatGroupMember, Friend

LIVE = ("pending", "valid")


@dataclass
class Arrival:
    channel: str  # friend | group | h5
    ref: str  # unique per campaign: the same arrival reported twice is one invitation
    wxid: str = ""
    name: str = ""
    keys: list = field(default_factory=list)  # person keys, strongest first: wxid:…, unionid:…, phone:…
    account_id: Optional[int] = None
    group_id: Optional[int] = None
    ip: str = ""
    device: str = ""
    customer: Optional[Customer] = None  # known already (H5 by phone)


def person_keys(wxid: str = "", unionid: str = "", phone_bidx: str = "") -> list[str]:
    return [k for k in (f"wxid:{wxid}" if wxid else "", f"unionid:{unionid}" if unionid else "",
                        f"phone:{phone_bidx}" if phone_bidx else "") if k]


def _existed_before(session: Session, campaign: Campaign, arrival: Arrival) -> str:
    """Why this person is not new to us (empty when they are)."""
    start = as_utc(campaign.starts_at)
    if arrival.wxid:
        accounts = list(campaign.account_ids or []) + ([arrival.account_id] if arrival.account_id else [])
        if accounts and session.exec(select(Friend.id).where(
                Friend.wxid == arrival.wxid, col(Friend.account_id).in_(accounts), Friend.added_at < start)).first():
            return "活动开始前已是好友，不计入邀请"
        if campaign.group_ids and session.exec(select(ChatGroupMember.id).where(
                ChatGroupMember.wxid == arrival.wxid, col(ChatGroupMember.group_id).in_(campaign.group_ids),
                ChatGroupMember.joined_at < start)).first():
            return "活动开始前已是群成员，不计入邀请"
    customer = arrival.customer
    if customer is not None and as_utc(customer.created_at) < start:
        return "活动开始前已是客户，不计入邀请"
    return ""


def _duplicate(session: Session, campaign: Campaign, inviter: Participant, arrival: Arrival) -> str:
    """Dedup by person: any of their keys (wxid, unionid, phone) or their customer already counted
    in this campaign (lapsed ones too: deleting and re-adding through another code is refused).
    One indexed query per identity rather than an OR across columns (this runs per report)."""
    customer = arrival.customer
    earlier = None
    if arrival.keys:
        earlier = session.exec(select(Invitation).where(
            Invitation.campaign_id == campaign.id, col(Invitation.person_key).in_(arrival.keys),
            col(Invitation.status).in_(LIVE + ("lapsed",))).limit(1)).first()
    if earlier is None and customer is not None:
        earlier = session.exec(select(Invitation).where(
            Invitation.invitee_customer_id == customer.id, Invitation.campaign_id == campaign.id,
            col(Invitation.status).in_(LIVE + ("lapsed",))).limit(1)).first()
    if earlier is not None:
        return ("重复邀请：该用户已计入你的邀请" if earlier.participant_id == inviter.id
                else "重复邀请：该用户已被其他参与者邀请过")
    if customer is not None and session.exec(select(Participant.id).where(
            Participant.campaign_id == campaign.id, Participant.customer_id == customer.id)).first():
        return "该用户已是活动参与者，不计入邀请"
    return ""


def _refusal(campaign: Campaign, inviter: Optional[Participant], arrival: Arrival, now: datetime) -> str:
    if inviter is None or inviter.campaign_id != campaign.id:
        return "邀请码无效"
    if not (campaign.status == "active" and as_utc(campaign.starts_at) <= now < as_utc(campaign.ends_at)):
        return "活动未在进行中"
    if arrival.wxid and arrival.wxid == inviter.wxid:
        return "不能邀请自己"
    if arrival.customer is not None and arrival.customer.id == inviter.customer_id:
        return "不能邀请自己"
    return ""


def _row(campaign: Campaign, inviter: Optional[Participant], arrival: Arrival, now: datetime, status: str,
         reason: str, claim: Optional[str]) -> Invitation:
    return Invitation(campaign_id=campaign.id, participant_id=inviter.id if inviter else None, channel=arrival.channel,
                      ref=arrival.ref[:120], person_key=(arrival.keys[0] if arrival.keys else "")[:120], claim=claim,
                      invitee_wxid=arrival.wxid[:64], invitee_name=arrival.name[:100], account_id=arrival.account_id,
                      group_id=arrival.group_id, status=status, reason=reason[:300], ip=arrival.ip[:64],
                      device=arrival.device[:64], created_at=now,
                      hold_until=now + timedelta(hours=campaign.hold_hours) if status == "pending" else None)


def _existing(session: Session, campaign_id: int, ref: str) -> Optional[Invitation]:
    return session.exec(select(Invitation).where(Invitation.campaign_id == campaign_id,
                                                 Invitation.ref == ref[:120])).first()


def refuse(session: Session, campaign: Campaign, inviter: Optional[Participant], arrival: Arrival, reason: str,
           now: datetime) -> Invitation:
    """Keeps a refused arrival with its reason (the refusal list shows it)."""
    row = _row(campaign, inviter, arrival, now, "refused", reason, None)
    session.add(row)
    session.flush()
    return row


def attribute(session: Session, campaign: Campaign, inviter: Optional[Participant], arrival: Arrival,
              now: datetime) -> Invitation:
    """The invitation for this arrival (the first one when re-reported); never raises for fraud."""
    found = _existing(session, campaign.id, arrival.ref)
    if found is not None:
        return found
    if arrival.customer is None:  # looked up once: every check below and the adoption use it
        arrival.customer = find_customer(session, arrival.wxid, arrival.account_id)
    reason = (_refusal(campaign, inviter, arrival, now) or _existed_before(session, campaign, arrival)
              or _duplicate(session, campaign, inviter, arrival))
    if reason:
        return refuse(session, campaign, inviter, arrival, reason, now)
    try:
        with session.begin_nested():
            row = _row(campaign, inviter, arrival, now, "pending", "", arrival.keys[0] if arrival.keys else None)
            session.add(row)
            session.flush()
    except IntegrityError:  # a concurrent report of the same arrival, or of the same person elsewhere
        return _existing(session, campaign.id, arrival.ref) or refuse(
            session, campaign, inviter, arrival, "重复邀请：该用户已被其他参与者邀请过", now)
    participants.bump(session, inviter.id, invited=1)
    _adopt(session, campaign, inviter, arrival, row, now)
    return row


def _adopt(session: Session, campaign: Campaign, inviter: Participant, arrival: Arrival, row: Invitation,
           now: datetime) -> None:
    """The invitee in the CRM (invited_by = the inviter, MGM) and in the tree, one level down."""
    customer = arrival.customer  # looked up in attribute(); None means nobody has this wxid yet
    if customer is None:
        customer = Customer(name=(arrival.name or arrival.wxid)[:100], wechat_id=arrival.wxid[:64] or None,
                            source="裂变活动", created_at=now, updated_at=now)
        session.add(customer)
        session.flush()
    if customer.invited_by_id is None and customer.id != inviter.customer_id:
        customer.invited_by_id = inviter.customer_id
        session.add(customer)
    row.invitee_customer_id = customer.id
    try:
        participants.join(session, campaign, customer, arrival.wxid, parent=inviter, now=now, fresh=True)
    except participants.DepthExceeded as exc:
        row.reason = exc.message[:300]
    session.add(row)
    session.flush()


def lapse(session: Session, rows: list[Invitation], reason: str, now: datetime) -> int:
    """Pending invitations that lost their person within the hold period (deleted, left every group)."""
    for row in rows:
        row.status, row.reason, row.settled_at = "lapsed", reason[:300], now
        session.add(row)
    session.flush()
    return len(rows)
