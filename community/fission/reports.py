"""The device gateway's report sinks for fission: they run inside the report's own transaction
(web/devices_ws.configure registers them), so an invitation is recorded exactly when the friend or
member it counts is, and a re-sent report changes nothing (invitation refs are unique).

friend_added: the code comes in `state` (a contact way's state, "fis-<code>") or `source`.
group_member_joined: each member may name `inviter_wxid` (or the report's own inviter_wxid).
friend_deleted / group_member_left: pending invitations lapse (within the hold period only)."""
from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from community.fission import participants
from community.fission.attribution import Arrival, attribute, lapse, person_keys
from community.fission.models import Campaign, Invitation, Participant
from config.clock import as_utc
from config.pii_column import blind_index
from crm.customers.normalize import BadContact, normalize_mobile
from devices.models import ChatGroupMember

ACTIVE = ("active",)


def _campaigns(session: Session) -> list[Campaign]:
    return list(session.exec(select(Campaign).where(col(Campaign.status).in_(ACTIVE))))


def _phone_key(mobile) -> str:
    try:
        return blind_index("mobile", normalize_mobile(str(mobile))) if mobile else ""
    except BadContact:
        return ""


def on_friend_added(session: Session, account, data: dict, at: datetime, report_id: str) -> None:
    code = participants.code_from_state(data.get("state") or data.get("source"))
    inviter = participants.by_code(session, code) if code else None
    if inviter is None:
        return  # an ordinary new friend, not a campaign arrival
    campaign = session.get(Campaign, inviter.campaign_id)
    if campaign is None or account.id not in (campaign.account_ids or []):
        return
    wxid = str(data.get("wxid") or "")[:64]
    arrival = Arrival(channel="friend", ref=f"friend:{account.id}:{wxid}", wxid=wxid,
                      name=str(data.get("nickname") or "")[:100], account_id=account.id,
                      keys=person_keys(wxid, str(data.get("unionid") or "")[:64], _phone_key(data.get("mobile"))))
    attribute(session, campaign, inviter, arrival, at)


def on_friend_deleted(session: Session, account, data: dict, at: datetime, report_id: str) -> None:
    rows = list(session.exec(select(Invitation).where(
        Invitation.channel == "friend", Invitation.account_id == account.id,
        Invitation.invitee_wxid == str(data.get("wxid") or "")[:64], Invitation.status == "pending",
        Invitation.hold_until > at)))
    lapse(session, rows, "考察期内删除了好友", at)


def on_member_joined(session: Session, account, data: dict, at: datetime, report_id: str) -> None:
    campaigns = [c for c in _campaigns(session) if c.group_ids]
    if not campaigns:
        return
    from devices.models import ChatGroup

    group = session.exec(select(ChatGroup).where(ChatGroup.account_id == account.id,
                                                 ChatGroup.chatroom_id == str(data.get("chatroom_id") or ""))).first()
    if group is None:
        return
    for campaign in (c for c in campaigns if group.id in c.group_ids):
        for member in data.get("members") or []:
            if not isinstance(member, dict) or not member.get("wxid"):
                continue
            inviter_wxid = str(member.get("inviter_wxid") or data.get("inviter_wxid") or "")[:64]
            if not inviter_wxid:
                continue  # joined on their own (scan of the group QR, no inviter): not an invitation
            inviter = session.exec(select(Participant).where(Participant.campaign_id == campaign.id,
                                                             Participant.wxid == inviter_wxid)).first()
            wxid = str(member["wxid"])[:64]
            arrival = Arrival(channel="group", ref=f"group:{wxid}", wxid=wxid, name=str(member.get("nickname") or "")[:100],
                              account_id=account.id, group_id=group.id, keys=person_keys(wxid))
            attribute(session, campaign, inviter, arrival, at)


def on_member_left(session: Session, account, data: dict, at: datetime, report_id: str) -> None:
    wxids = [str(m.get("wxid"))[:64] for m in data.get("members") or [] if isinstance(m, dict) and m.get("wxid")]
    if not wxids:
        return
    rows = list(session.exec(select(Invitation).where(
        Invitation.channel == "group", col(Invitation.invitee_wxid).in_(wxids), Invitation.status == "pending",
        Invitation.hold_until > at)))
    gone = []
    for row in rows:
        campaign = session.get(Campaign, row.campaign_id)
        still = session.exec(select(ChatGroupMember.id).where(
            ChatGroupMember.wxid == row.invitee_wxid, col(ChatGroupMember.group_id).in_(campaign.group_ids or [-1]),
            col(ChatGroupMember.left_at).is_(None))).first()
        if still is None and as_utc(row.created_at) <= at:
            gone.append(row)
    lapse(session, gone, "考察期内退出了全部活动群", at)


SINKS = {"friend_added": on_friend_added, "friend_deleted": on_friend_deleted,
         "group_member_joined": on_member_joined, "group_member_left": on_member_left}
