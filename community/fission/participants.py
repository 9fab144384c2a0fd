"""Participants and the referral tree. Each gets a code (carried by their poster's QR, their link
and a contact way's `state`, "fis-<code>", within WeChat's 30 characters) and a level: seeds are
level 1, someone they bring in is level 2 … up to the campaign's depth cap."""
from __future__ import annotations

import secrets
from datetime import datetime
from typing import Optional

from sqlalchemy import text
from sqlmodel import Session, col, func, select

from community.errors import CommunityError
from community.records import get_or_missing
from community.fission.models import Campaign, Invitation, Participant
from config.dialect_insert import insert_for
from crm.customers.models import Customer

CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
STATE_PREFIX = "fis-"


class DepthExceeded(CommunityError):
    pass


def _code() -> str:
    """50 random bits; the UNIQUE index is the check (a collision, ~1 in 10^15 per pair, fails the
    insert and the phone's re-sent report gets a fresh code) — no lookup per participant."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(10))


def code_from_state(value) -> str:
    """The participant code in a report's state/source ("fis-ab12…" or the bare code)."""
    text_value = str(value or "").strip()
    if text_value.startswith(STATE_PREFIX):
        text_value = text_value[len(STATE_PREFIX):]
    return text_value if 0 < len(text_value) <= 24 else ""


def by_code(session: Session, code: str) -> Optional[Participant]:
    return session.exec(select(Participant).where(Participant.code == code)).first() if code else None


def join(session: Session, campaign: Campaign, customer: Customer, wxid: str = "",
         parent: Optional[Participant] = None, now: Optional[datetime] = None,
         fresh: bool = False) -> tuple[Participant, bool]:
    """The customer's participant row in the campaign (created once; a race returns the winner).
    `fresh`: the caller knows the customer is not a participant yet (skips the lookup).
    A child below the depth cap is refused: the tree stops growing there."""
    if not fresh:
        found = session.exec(select(Participant).where(Participant.campaign_id == campaign.id,
                                                       Participant.customer_id == customer.id)).first()
        if found is not None:
            return found, False
    level = parent.level + 1 if parent else 1
    if level > campaign.depth_cap:
        raise DepthExceeded(f"超过裂变层级上限（{campaign.depth_cap} 级），不再生成下级海报")
    inserted = session.execute(insert_for(session)(Participant.__table__).values(
        campaign_id=campaign.id, customer_id=customer.id, code=_code(), wxid=(wxid or customer.wechat_id or "")[:64],
        parent_id=parent.id if parent else None, level=level, invited=0, valid=0, created_at=now)
        .on_conflict_do_nothing(index_elements=["campaign_id", "customer_id"])
        .returning(Participant.__table__.c.id)).scalar()
    row = session.get(Participant, inserted) if inserted else session.exec(select(Participant).where(
        Participant.campaign_id == campaign.id, Participant.customer_id == customer.id)).one()
    return row, inserted is not None


def get(session: Session, participant_id) -> Participant:
    return get_or_missing(session, Participant, participant_id, "参与者不存在")


def bump(session: Session, participant_id: int, invited: int = 0, valid: int = 0) -> None:
    session.execute(text("UPDATE fission_participant SET invited = invited + :i, valid = valid + :v WHERE id = :p"),
                    {"i": invited, "v": valid, "p": participant_id})


def listing(session: Session, campaign_id: int, limit: int = 500) -> list[tuple[Participant, str]]:
    return list(session.exec(select(Participant, Customer.name).join(Customer, Customer.id == Participant.customer_id)
                             .where(Participant.campaign_id == campaign_id)
                             .order_by(col(Participant.valid).desc(), col(Participant.invited).desc(), Participant.id)
                             .limit(limit)))


def levels(session: Session, campaign_id: int) -> list[dict]:
    """The referral tree per level: participants, invitations and valid invitations."""
    rows = session.exec(select(Participant.level, func.count(), func.coalesce(func.sum(Participant.invited), 0),
                               func.coalesce(func.sum(Participant.valid), 0))
                        .where(Participant.campaign_id == campaign_id).group_by(Participant.level)
                        .order_by(Participant.level)).all()
    return [{"level": lv, "participants": n, "invited": int(i), "valid": int(v)} for lv, n, i, v in rows]


def children(session: Session, participant_id: int) -> list[tuple[Invitation, Optional[Participant]]]:
    """A participant's invitations, each with the participant the invitee became (if any)."""
    invitations = list(session.exec(select(Invitation).where(Invitation.participant_id == participant_id)
                                    .order_by(col(Invitation.id))))
    ids = [i.invitee_customer_id for i in invitations if i.invitee_customer_id]
    own = {}
    if ids and invitations:
        own = {p.customer_id: p for p in session.exec(select(Participant).where(
            Participant.campaign_id == invitations[0].campaign_id, col(Participant.customer_id).in_(ids)))}
    return [(i, own.get(i.invitee_customer_id)) for i in invitations]
