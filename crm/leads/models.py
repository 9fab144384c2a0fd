"""场景获客 records: channels, scenes (获客场景配置), acquisition plans (获客计划), leads with their
processing log and assignment history, dead letters, pull cursors, payment codes and QR posters.

A scene is configuration that the pipeline reads at the moment a lead is processed, so an edit
applies to the next lead without a restart; every edit is kept as a SceneVersion.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Optional

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from config.clock import utcnow
from config.db_types import JSONType
from config.pii_column import CONTACT_FIELDS, SealedJSON, SealedText, keep_blind_indexes

SCENE_TYPES = {
    "PHONE_CALL": "电话获客",
    "WEB_FORM": "表单获客",
    "ORDER_SYNC": "订单获客",
    "PAYMENT_CODE": "付款码获客",
    "SOCIAL_MEDIA_LEAD": "抖音获客",
    "QR_CODE_SCAN": "海报获客",
    "API_IMPORT": "接口导入",
    "FILE_IMPORT": "文件导入",
}
CHANNEL_TYPES = {
    "PAID_SEARCH": "付费搜索",
    "ORGANIC_SOCIAL": "社交自然流量",
    "PAID_SOCIAL": "社交广告",
    "REFERRAL": "转介绍",
    "OFFLINE_EVENT": "线下活动",
    "OFFLINE_STORE": "线下门店",
    "ECOMMERCE": "电商平台",
    "PHONE": "电话",
    "PARTNER": "合作伙伴",
    "OTHER": "其他",
}
DEDUP_STRATEGIES = {
    "NO_CHECK": "不去重",
    "BY_PHONE": "按手机号",
    "BY_EMAIL": "按邮箱",
    "BY_PHONE_OR_EMAIL": "按手机号或邮箱",
}
LEAD_STATUSES = {
    "NEW": "新线索",
    "QUALIFIED": "有效",
    "DISQUALIFIED": "无效",
    "ASSIGNED": "已分配",
    "PROCESSING": "跟进中",
    "CONVERTED": "已转化",
    "CLOSED": "已关闭",
}
PLAN_STATUSES = {"draft": "草稿", "running": "进行中", "paused": "已暂停", "ended": "已结束"}
DEAD_LETTER_STATUSES = {"open": "待处理", "redriven": "已重新处理", "discarded": "已丢弃"}


class LeadChannel(SQLModel, table=True):
    """渠道: where a lead came from (百度推广, 抖音, 销售自开拓 …); `code` is the 渠道码 in QR links."""

    __tablename__ = "lead_channel"

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    channel_type: str = Field(default="OTHER", max_length=32)
    code: str = Field(max_length=32, unique=True)
    is_active: bool = True
    remark: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class LeadScene(SQLModel, table=True):
    """获客场景配置. `key` names its event (lead.<key>) and its webhook; secrets are Fernet-sealed."""

    __tablename__ = "lead_scene"

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    key: str = Field(max_length=40, unique=True)
    scene_type: str = Field(max_length=32, index=True)
    is_enabled: bool = True
    default_channel_id: Optional[int] = Field(default=None, foreign_key="lead_channel.id")
    params: dict = Field(default_factory=dict, sa_type=JSONType)  # non-secret scene_specific_params
    secret_sealed: str = Field(default="", max_length=500)  # webhook signing secret
    credentials_sealed: str = Field(default="", max_length=4000)  # pull adapters' platform credentials (JSON)
    # [{"source": "submission.tel", "target": "mobile", "transform": "phone", "default": ...}, ...]
    mapping_rules: list = Field(default_factory=list, sa_type=JSONType)
    # [{"name": "产品A意向", "rows": [condition rows], "tags": [tag ids]}, ...]
    tagging_rules: list = Field(default_factory=list, sa_type=JSONType)
    # {"rules": [{"name", "rows", "method", "user_ids", "group_id", "weights", "cap_per_day"}],
    #  "working_hours": {...}, "backup_user_ids": [...], "fallback": {...}}
    assignment_rules: dict = Field(default_factory=dict, sa_type=JSONType)
    # {"channel": "sms"|"email"|"device"|"", "template": "<code>", "device_text": "...", "device_account": "<id>"}
    auto_response: dict = Field(default_factory=dict, sa_type=JSONType)
    dedup_strategy: str = Field(default="BY_PHONE_OR_EMAIL", max_length=24)
    event_code: str = Field(default="", max_length=64)
    strategy_id: Optional[int] = None  # the scene's default pipeline strategy (editable like any)
    rate_limit_per_minute: int = 600  # public endpoints: per scene; per IP is a setting
    version: int = 1
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class LeadSceneVersion(SQLModel, table=True):
    __tablename__ = "lead_scene_version"
    __table_args__ = (UniqueConstraint("scene_id", "version", name="uq_lead_scene_version"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    scene_id: int = Field(foreign_key="lead_scene.id", index=True)
    version: int
    snapshot: dict = Field(default_factory=dict, sa_type=JSONType)
    diff: list = Field(default_factory=list, sa_type=JSONType)  # [{"field", "before", "after"}]
    author: str = Field(default="", max_length=64)
    created_at: datetime = Field(default_factory=utcnow)


class AcquisitionPlan(SQLModel, table=True):
    """获客计划: a scene with goals, channels, content (话术, 海报, 素材) and a period."""

    __tablename__ = "lead_plan"

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    scene_id: int = Field(foreign_key="lead_scene.id", index=True)
    status: str = Field(default="draft", max_length=16)
    channel_ids: list = Field(default_factory=list, sa_type=JSONType)
    goal_leads: int = 0
    goal_note: str = Field(default="", max_length=500)
    # {"scripts": ["话术…"], "material_ids": [..], "poster": {"title", "subtitle", "color"}, "douyin_accounts": [..],
    #  "phone_numbers": [..]}
    content: dict = Field(default_factory=dict, sa_type=JSONType)
    starts_on: Optional[date] = None
    ends_on: Optional[date] = None
    created_by: Optional[int] = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Lead(SQLModel, table=True):
    __tablename__ = "lead"
    __table_args__ = (
        UniqueConstraint("scene_id", "external_id", name="uq_lead_scene_external"),
        Index("ix_lead_scene_created", "scene_id", "created_at"),
        Index("ix_lead_assignee_status", "assignee_user_id", "status"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    scene_id: int = Field(foreign_key="lead_scene.id")
    channel_id: Optional[int] = Field(default=None, foreign_key="lead_channel.id", index=True)
    plan_id: Optional[int] = Field(default=None, foreign_key="lead_plan.id", index=True)
    external_id: Optional[str] = Field(default=None, max_length=128)
    status: str = Field(default="NEW", max_length=16, index=True)
    substatus: str = Field(default="", max_length=32)  # e.g. 通话中 / 通话结束
    # The standard fields (name, mobile, email, company, message, region, product, intent, value …)
    # plus the scene's own mapped fields; name/mobile/email are copied to columns for dedup and lists.
    # Strings holding a phone or an e-mail are sealed inside these two (config.pii_column.SealedJSON).
    lead_data: dict = Field(default_factory=dict, sa_type=SealedJSON)
    raw_data: dict = Field(default_factory=dict, sa_type=SealedJSON)
    meta: dict = Field(default_factory=dict, sa_type=JSONType)  # ip, user agent, submission url
    name: str = Field(default="", max_length=100)
    # Sealed at rest (config.pii_column); dedup and search use the blind indexes.
    mobile: Optional[str] = Field(default=None, sa_type=SealedText)
    email: Optional[str] = Field(default=None, sa_type=SealedText)
    mobile_bidx: Optional[str] = Field(default=None, max_length=32, index=True)
    mobile_tail_bidx: Optional[str] = Field(default=None, max_length=32, index=True)
    email_bidx: Optional[str] = Field(default=None, max_length=32, index=True)
    region: str = Field(default="", max_length=64)
    value: float = 0
    tag_ids: list = Field(default_factory=list, sa_type=JSONType)
    customer_id: Optional[int] = Field(default=None, foreign_key="customer.id", index=True)
    customer_is_new: bool = False  # the lead created a prospect rather than matching a customer
    duplicate_of_id: Optional[int] = None  # an earlier lead of the same person in this scene
    assignee_user_id: Optional[int] = Field(default=None, foreign_key="user_account.id")
    assignee_group_id: Optional[int] = Field(default=None, foreign_key="customer_group.id")
    assigned_at: Optional[datetime] = None
    responded_at: Optional[datetime] = None
    converted_at: Optional[datetime] = None
    notes: str = Field(default="", max_length=4000)
    error: str = Field(default="", max_length=1000)  # the last processing failure, for dead letters
    created_at: datetime = Field(default_factory=utcnow, index=True)
    updated_at: datetime = Field(default_factory=utcnow)


keep_blind_indexes(Lead, CONTACT_FIELDS)


class LeadTag(SQLModel, table=True):
    """Tags on a lead (the same tag definitions as customers), for `tags_contain_any` filters."""

    __tablename__ = "lead_tag"

    lead_id: int = Field(foreign_key="lead.id", primary_key=True)
    tag_id: int = Field(foreign_key="tag.id", primary_key=True, index=True)
    created_at: datetime = Field(default_factory=utcnow)


class LeadLog(SQLModel, table=True):
    """线索处理日志: one row per step (received, identified, tagged, assigned, responded, status …)."""

    __tablename__ = "lead_log"

    id: Optional[int] = Field(default=None, primary_key=True)
    lead_id: int = Field(foreign_key="lead.id", index=True)
    stage: str = Field(max_length=24)
    ok: bool = True
    message: str = Field(default="", max_length=1000)
    detail: dict = Field(default_factory=dict, sa_type=JSONType)
    actor: str = Field(default="", max_length=64)  # a user's name, "strategy:<id>" or "system"
    created_at: datetime = Field(default_factory=utcnow)


class LeadAssignment(SQLModel, table=True):
    """分配记录: every assignment, automatic or manual, with the rule and the latency."""

    __tablename__ = "lead_assignment"

    id: Optional[int] = Field(default=None, primary_key=True)
    lead_id: int = Field(foreign_key="lead.id", index=True)
    scene_id: int = Field(index=True)
    from_user_id: Optional[int] = None
    to_user_id: Optional[int] = Field(default=None, index=True)
    to_group_id: Optional[int] = None
    method: str = Field(default="manual", max_length=24)
    rule_name: str = Field(default="", max_length=100)
    reason: str = Field(default="", max_length=500)
    actor: str = Field(default="", max_length=64)
    latency_seconds: float = 0  # from the lead's arrival to this assignment
    created_at: datetime = Field(default_factory=utcnow, index=True)


class LeadAssignState(SQLModel, table=True):
    """Round-robin and weighted pointers per scene rule (kept in the database, so several workers
    share one rotation)."""

    __tablename__ = "lead_assign_state"

    scene_id: int = Field(foreign_key="lead_scene.id", primary_key=True)
    rule_key: str = Field(max_length=64, primary_key=True)
    counter: int = 0


class LeadDeadLetter(SQLModel, table=True):
    """线索死信: a submission that could not become a lead (or a lead whose processing failed)."""

    __tablename__ = "lead_dead_letter"

    id: Optional[int] = Field(default=None, primary_key=True)
    scene_id: Optional[int] = Field(default=None, index=True)
    source: str = Field(default="api", max_length=16)  # api | webhook | pull | file | pipeline
    payload: dict = Field(default_factory=dict, sa_type=JSONType)
    reason: str = Field(default="", max_length=1000)
    errors: list = Field(default_factory=list, sa_type=JSONType)
    status: str = Field(default="open", max_length=16, index=True)  # open | redriven | discarded
    lead_id: Optional[int] = None
    attempts: int = 0
    created_at: datetime = Field(default_factory=utcnow, index=True)
    resolved_at: Optional[datetime] = None


class WebhookRejection(SQLModel, table=True):
    """A refused webhook call (bad signature, stale timestamp, replay …), counted per scene."""

    __tablename__ = "lead_webhook_rejection"

    id: Optional[int] = Field(default=None, primary_key=True)
    adapter: str = Field(max_length=32)
    scene_id: Optional[int] = Field(default=None, index=True)
    reason: str = Field(max_length=32)  # signature | timestamp | replay | scene | rate_limit | body
    client_ip: str = Field(default="", max_length=64)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    # Refused calls this row stands for: a rate-limit refusal writes one row per client (or scene)
    # and window and counts the window's further refusals here.
    hits: int = Field(default=1, sa_column_kwargs={"server_default": "1"})


class WebhookNonce(SQLModel, table=True):
    """Signatures seen inside the timestamp window; a second delivery of the same one is a replay."""

    __tablename__ = "lead_webhook_nonce"
    __table_args__ = (UniqueConstraint("scene_id", "digest", name="uq_lead_webhook_nonce"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    scene_id: int
    digest: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, index=True)


class PullCursor(SQLModel, table=True):
    """Where a polling scene (订单同步, 抖音粉丝同步) stopped, and its backoff after failures."""

    __tablename__ = "lead_pull_cursor"

    scene_id: int = Field(foreign_key="lead_scene.id", primary_key=True)
    cursor: str = Field(default="", max_length=500)
    next_run_at: Optional[datetime] = None
    last_run_at: Optional[datetime] = None
    failures: int = 0
    last_error: str = Field(default="", max_length=1000)


class PullRun(SQLModel, table=True):
    """订单同步记录: one poll of a platform."""

    __tablename__ = "lead_pull_run"

    id: Optional[int] = Field(default=None, primary_key=True)
    scene_id: int = Field(foreign_key="lead_scene.id", index=True)
    started_at: datetime = Field(default_factory=utcnow)
    finished_at: Optional[datetime] = None
    fetched: int = 0
    created: int = 0
    duplicates: int = 0
    rejected: int = 0
    ok: bool = True
    error: str = Field(default="", max_length=1000)
    trigger: str = Field(default="schedule", max_length=16)  # schedule | manual


class PaymentCode(SQLModel, table=True):
    """付款码: a QR that opens a payment carrying scene parameters; payments become leads or deals."""

    __tablename__ = "lead_payment_code"

    id: Optional[int] = Field(default=None, primary_key=True)
    token: str = Field(max_length=32, unique=True)
    scene_id: int = Field(foreign_key="lead_scene.id", index=True)
    channel_id: Optional[int] = Field(default=None, foreign_key="lead_channel.id")
    plan_id: Optional[int] = Field(default=None, foreign_key="lead_plan.id")
    title: str = Field(max_length=100)
    provider: str = Field(default="wechat_pay", max_length=16)  # wechat_pay | alipay
    amount: Optional[float] = None  # fixed amount in yuan; None = the payer enters it
    params: dict = Field(default_factory=dict, sa_type=JSONType)
    is_active: bool = True
    scans: int = 0
    paid_count: int = 0
    paid_total: float = 0
    created_at: datetime = Field(default_factory=utcnow)


class PaymentRecord(SQLModel, table=True):
    """支付记录: one paid callback (idempotent on the platform's trade number)."""

    __tablename__ = "lead_payment"

    id: Optional[int] = Field(default=None, primary_key=True)
    payment_code_id: Optional[int] = Field(default=None, foreign_key="lead_payment_code.id", index=True)
    provider: str = Field(max_length=16)
    trade_no: str = Field(max_length=64, unique=True)
    amount: float = 0
    payer: str = Field(default="", max_length=128)
    mobile: Optional[str] = Field(default=None, sa_type=SealedText)
    paid_at: datetime = Field(default_factory=utcnow)
    lead_id: Optional[int] = Field(default=None, index=True)
    customer_id: Optional[int] = Field(default=None, index=True)
    raw: dict = Field(default_factory=dict, sa_type=SealedJSON)


class QrCode(SQLModel, table=True):
    """海报/渠道码: a per-channel QR (with a generated poster) whose scans and adds are counted."""

    __tablename__ = "lead_qr_code"

    id: Optional[int] = Field(default=None, primary_key=True)
    token: str = Field(max_length=32, unique=True)
    scene_id: int = Field(foreign_key="lead_scene.id", index=True)
    channel_id: Optional[int] = Field(default=None, foreign_key="lead_channel.id", index=True)
    plan_id: Optional[int] = Field(default=None, foreign_key="lead_plan.id")
    title: str = Field(max_length=100)
    subtitle: str = Field(default="", max_length=200)
    target_url: str = Field(default="", max_length=1000)  # where a scan lands (a form or add-friend page)
    color: str = Field(default="#1f6feb", max_length=16)
    scans: int = 0
    adds: int = 0
    created_at: datetime = Field(default_factory=utcnow)


class QrScan(SQLModel, table=True):
    __tablename__ = "lead_qr_scan"

    id: Optional[int] = Field(default=None, primary_key=True)
    qr_code_id: int = Field(foreign_key="lead_qr_code.id", index=True)
    kind: str = Field(default="scan", max_length=8)  # scan | add
    client_ip: str = Field(default="", max_length=64)
    lead_id: Optional[int] = None
    created_at: datetime = Field(default_factory=utcnow, index=True)
