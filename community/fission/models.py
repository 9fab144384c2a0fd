"""Tables of 裂变活动.

A campaign's participants form a referral tree (parent_id, level ≤ depth cap). An invitation is one
person brought in by one participant through one channel; it is `pending` during the hold period,
then `valid` or `lapsed` (the friend deleted the account / left every campaign group), or
`refused` at once with the anti-fraud reason. Stage rewards are one row per (participant, stage),
so a stage is rewarded once however often settlement runs."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from config.clock import utcnow
from config.db_types import JSONType

CAMPAIGN_KINDS = {"invite": "邀请有礼", "group": "群裂变", "team": "拼团", "distribution": "分销裂变"}
CAMPAIGN_STATES = {"draft": "草稿", "active": "进行中", "paused": "已暂停", "ended": "已结束"}
INVITATION_STATES = {"pending": "考察期", "valid": "有效", "lapsed": "已失效", "refused": "已拒绝"}
CHANNELS = {"friend": "加好友", "group": "入群", "h5": "H5 页面"}


class Campaign(SQLModel, table=True):
    __tablename__ = "fission_campaign"

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    kind: str = Field(default="invite", max_length=16)  # CAMPAIGN_KINDS
    status: str = Field(default="draft", max_length=16)  # CAMPAIGN_STATES
    starts_at: datetime
    ends_at: datetime
    hold_hours: int = 72  # an invitation counts only if the friend stays this long
    depth_cap: int = 3  # participants at most this many levels below a seed participant
    team_size: int = 3  # 拼团: buyers per team
    commission_bp: int = 0  # 分销: commission in basis points of the paid amount (1000 = 10 %)
    rules: str = Field(default="", max_length=2000)  # shown to participants on the H5
    account_ids: list = Field(default_factory=list, sa_type=JSONType)  # staff pool: new friends go here
    group_ids: list = Field(default_factory=list, sa_type=JSONType)  # group pool (ChatGroup ids)
    stages: list = Field(default_factory=list, sa_type=JSONType)  # [{threshold, name, processor, config}]
    poster: dict = Field(default_factory=dict, sa_type=JSONType)  # title, subtitle, color, material_id, qr_x, qr_y, qr_size
    rate_limit: dict = Field(default_factory=dict, sa_type=JSONType)  # per_ip, per_device: H5 joins per hour
    created_by: Optional[int] = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Participant(SQLModel, table=True):
    __tablename__ = "fission_participant"
    __table_args__ = (UniqueConstraint("campaign_id", "customer_id", name="uq_fission_participant"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    campaign_id: int = Field(index=True)
    customer_id: int = Field(index=True)
    code: str = Field(max_length=24, unique=True)  # carried by the QR / link / contact-way state
    wxid: str = Field(default="", max_length=64)
    parent_id: Optional[int] = Field(default=None, index=True)  # who invited this participant
    level: int = 1
    invited: int = 0  # invitations recorded (not refused)
    valid: int = 0  # invitations that passed the hold period
    created_at: datetime = Field(default_factory=utcnow)


class Invitation(SQLModel, table=True):
    __tablename__ = "fission_invitation"
    __table_args__ = (
        UniqueConstraint("campaign_id", "ref", name="uq_fission_invitation_ref"),
        # One live claim per person per campaign: NULL for refusals (NULLs never collide), so two
        # participants racing for the same friend cannot both count them.
        UniqueConstraint("campaign_id", "claim", name="uq_fission_invitation_claim"),
        Index("ix_fission_invitation_due", "status", "hold_until"),
        Index("ix_fission_invitation_person", "campaign_id", "person_key"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    campaign_id: int = Field(index=True)
    participant_id: Optional[int] = Field(default=None, index=True)  # None: the code was unknown
    channel: str = Field(max_length=16)  # CHANNELS
    ref: str = Field(max_length=120)  # dedupes re-sent reports: "friend:<account>:<wxid>" …
    person_key: str = Field(default="", max_length=120)  # wxid:/unionid:/phone: of the invitee
    claim: Optional[str] = Field(default=None, max_length=120)  # person_key while not refused
    invitee_wxid: str = Field(default="", max_length=64)
    invitee_name: str = Field(default="", max_length=100)
    invitee_customer_id: Optional[int] = Field(default=None, index=True)
    account_id: Optional[int] = None
    group_id: Optional[int] = None
    status: str = Field(default="pending", max_length=16)  # INVITATION_STATES
    reason: str = Field(default="", max_length=300)
    hold_until: Optional[datetime] = None
    settled_at: Optional[datetime] = None
    ip: str = Field(default="", max_length=64)
    device: str = Field(default="", max_length=64)
    created_at: datetime = Field(default_factory=utcnow, index=True)


class StageReward(SQLModel, table=True):
    __tablename__ = "fission_stage_reward"
    __table_args__ = (UniqueConstraint("participant_id", "stage_index", name="uq_fission_stage_reward"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    campaign_id: int = Field(index=True)
    participant_id: int
    customer_id: int = Field(index=True)
    stage_index: int
    stage_name: str = Field(default="", max_length=100)
    processor_key: str = Field(default="", max_length=64)
    event_record_id: Optional[int] = None
    created_at: datetime = Field(default_factory=utcnow)
