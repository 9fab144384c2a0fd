"""群打卡 points land in the one ledger. The key is f"checkin:{checkin_id}:{member_wxid}" — the KOC
part awards KOC-started check-ins with the same key, so a check-in never earns twice."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlmodel import Session

from community import points
from community.rewards.members import customer_for
from devices.models import CheckIn


def checkin_ref(checkin: CheckIn) -> str:
    return f"checkin:{checkin.id}:{checkin.member_wxid}"


def award_checkin(session: Session, checkin: CheckIn, account_id: Optional[int], group_name: str,
                  now: datetime) -> Optional[int]:
    """Earns the check-in's points for the member's customer; returns the entry id (None for 0 points)."""
    if checkin.points <= 0:
        return None
    customer = customer_for(session, checkin.member_wxid, checkin.nickname, account_id, "群打卡", now)
    entry, _new = points.earn(session, customer.id, checkin.points, reason=f"群打卡：{group_name}"[:300],
                              source="checkin", source_ref=checkin_ref(checkin), now=now)
    return entry.id
