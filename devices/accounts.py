"""微信号管理: every WeChat account with its status, 健康分 and today's adds/sends against the caps
its score allows; who owns it; pausing and resuming it by hand; its friends (searchable by
nickname, remark, wxid or phone, filtered by WeChat label or by whether a CRM customer is linked)
and its groups with their members."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Iterable, Optional

from sqlalchemy import cast, exists, func, or_, select as sa_select
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Session, select

from config.clock import to_local
from config.redis_factory import is_outage
from devices.budget_plan import BudgetUnavailable
from devices.budget_store import store_for
from devices.health import daily_caps
from devices.models import (BudgetCounter, ChatGroup, ChatGroupMember, Device, Friend, HealthEvent,
                            WechatAccount)

STATUS_LABELS = {"normal": "正常", "paused": "已暂停", "offline": "离线", "banned": "已封号"}
USAGE_KINDS = ("add_friend", "send")
MAX_PAUSE_HOURS = 24 * 30


class AccountError(ValueError):
    """A refused change, with a Chinese message (and per-field messages for forms)."""

    def __init__(self, message: str, errors: Optional[dict] = None):
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


class AccountNotFound(AccountError):
    def __init__(self, what: str = "微信号"):
        super().__init__(f"{what}不存在或已删除")


@dataclass
class AccountRow:
    account: WechatAccount
    device_name: str = ""
    device_online: bool = False
    usage: dict = field(default_factory=dict)  # {"add_friend": n, "send": n}
    caps: dict = field(default_factory=dict)  # devices.health.daily_caps for the score: {"add_friend": n, …}


def local_day(now: datetime, tz: str) -> date:
    """Budget counters are kept per local day (settings.timezone), as the risk engine counts them."""
    return to_local(now, tz).date()


def today_usage(session: Session, account_ids: Iterable[int], day: date, settings=None) -> dict[int, dict[str, int]]:
    """{account_id: {kind: count}}: today's counters where the risk budget keeps them — Redis
    when configured, else the BudgetCounter rows (one query for the whole page)."""
    scopes = {f"account:{a}": a for a in account_ids}
    usage = {a: {k: 0 for k in USAGE_KINDS} for a in scopes.values()}
    if not scopes:
        return usage
    if getattr(settings, "redis_url", ""):
        store = store_for(session, settings)
        try:
            for scope, account_id in scopes.items():
                usage[account_id] = {k: store.count(scope, day, k) for k in USAGE_KINDS}
        except Exception as exc:
            if not is_outage(exc):
                raise
            raise BudgetUnavailable("风控服务（Redis）暂时不可用，今日用量无法读取，请稍后再试") from exc
        return usage
    rows = session.exec(select(BudgetCounter).where(
        BudgetCounter.scope.in_(list(scopes)), BudgetCounter.day == day,
        BudgetCounter.kind.in_(USAGE_KINDS))).all()
    for row in rows:
        usage[scopes[row.scope]][row.kind] = row.count
    return usage


def list_accounts(session: Session, now: datetime, settings, *, keyword: str = "", status: str = "",
                  device_id: Optional[int] = None, owner_id: Optional[int] = None) -> list[AccountRow]:
    query = select(WechatAccount).order_by(WechatAccount.id)
    if keyword:
        like = f"%{keyword}%"
        query = query.where(or_(WechatAccount.nickname.like(like), WechatAccount.wxid.like(like),
                                WechatAccount.alias.like(like), WechatAccount.mobile.like(like)))
    if status:
        query = query.where(WechatAccount.status == status)
    if device_id is not None:
        query = query.where(WechatAccount.device_id == device_id)
    if owner_id is not None:
        query = query.where(WechatAccount.owner_user_id == owner_id)
    accounts = session.exec(query).all()
    devices = {d.id: d for d in session.exec(select(Device).where(
        Device.id.in_({a.device_id for a in accounts if a.device_id}))).all()}
    usage = today_usage(session, [a.id for a in accounts], local_day(now, settings.timezone), settings)
    rows = []
    for a in accounts:
        device = devices.get(a.device_id)
        rows.append(AccountRow(a, device.name if device else "", bool(device and device.online), usage[a.id],
                               daily_caps(a.health_score, settings)))
    return rows


def get_account(session: Session, account_id: int) -> WechatAccount:
    account = session.get(WechatAccount, account_id)
    if account is None:
        raise AccountNotFound()
    return account


def account_row(session: Session, account_id: int, now: datetime, settings) -> AccountRow:
    account = get_account(session, account_id)
    device = session.get(Device, account.device_id) if account.device_id else None
    return AccountRow(account, device.name if device else "", bool(device and device.online),
                      today_usage(session, [account.id], local_day(now, settings.timezone), settings)[account.id],
                      daily_caps(account.health_score, settings))


def health_history(session: Session, account_id: int, limit: int = 60) -> list[HealthEvent]:
    """The latest `limit` score moves, oldest first (the order a chart draws them)."""
    rows = session.exec(select(HealthEvent).where(HealthEvent.account_id == account_id)
                        .order_by(HealthEvent.created_at.desc(), HealthEvent.id.desc()).limit(limit)).all()
    return list(reversed(rows))


def set_owner(session: Session, account_id: int, user_id: Optional[int]) -> WechatAccount:
    account = get_account(session, account_id)
    account.owner_user_id = user_id
    session.add(account)
    return account


def pause(session: Session, account_id: int, hours: int, reason: str, now: datetime) -> WechatAccount:
    """Stops every command for the account until `now + hours` (the risk budget reads paused_until)."""
    try:
        hours = int(hours)
    except (TypeError, ValueError):
        raise AccountError("暂停时长必须是整数小时", {"hours": "暂停时长必须是整数小时"}) from None
    if not 1 <= hours <= MAX_PAUSE_HOURS:
        raise AccountError(f"暂停时长应在 1–{MAX_PAUSE_HOURS} 小时之间", {"hours": "暂停时长超出范围"})
    account = get_account(session, account_id)
    if account.status == "banned":
        raise AccountError("已封号的微信号不能暂停")
    account.status = "paused"
    account.paused_until = now + timedelta(hours=hours)
    account.pause_reason = (reason or "").strip()[:200] or "手动暂停"
    session.add(account)
    return account


def resume(session: Session, account_id: int) -> WechatAccount:
    account = get_account(session, account_id)
    if account.status == "banned":
        raise AccountError("已封号的微信号不能恢复")
    account.status = "normal"
    account.paused_until = None
    account.pause_reason = ""
    session.add(account)
    return account


# -- friends -------------------------------------------------------------------------------------

@dataclass
class FriendQuery:
    account_id: Optional[int] = None
    keyword: str = ""  # nickname, remark, wxid or mobile
    tag: str = ""  # one WeChat label
    linked: str = ""  # "" | "yes" | "no"
    include_deleted: bool = False


def _has_tag(session: Session, tag: str):
    """JSON-array membership on both databases (JSONB @> on PostgreSQL, json_each on SQLite)."""
    if session.get_bind().dialect.name == "postgresql":
        # The column is JSON with a JSONB variant; say JSONB so SQLAlchemy knows @> applies.
        return cast(Friend.tags, JSONB).contains([tag])
    each = func.json_each(Friend.tags).table_valued("value")
    return exists(sa_select(each.c.value).where(each.c.value == tag))


def friend_filter(session: Session, q: FriendQuery):
    conditions = []
    if q.account_id is not None:
        conditions.append(Friend.account_id == q.account_id)
    if not q.include_deleted:
        conditions.append(Friend.deleted_at.is_(None))
    if q.keyword:
        like = f"%{q.keyword.strip()}%"
        conditions.append(or_(Friend.nickname.like(like), Friend.remark.like(like), Friend.wxid.like(like),
                              Friend.mobile.like(like)))
    if q.tag:
        conditions.append(_has_tag(session, q.tag))
    if q.linked == "yes":
        conditions.append(Friend.customer_id.is_not(None))
    elif q.linked == "no":
        conditions.append(Friend.customer_id.is_(None))
    return conditions


def search_friends(session: Session, q: FriendQuery, page: int = 1, per_page: int = 20) -> tuple[list[Friend], int]:
    conditions = friend_filter(session, q)
    total = session.exec(select(func.count()).select_from(Friend).where(*conditions)).one()
    rows = session.exec(select(Friend).where(*conditions).order_by(Friend.added_at.desc(), Friend.id.desc())
                        .offset((page - 1) * per_page).limit(per_page)).all()
    return list(rows), total


def friend_tags(session: Session, account_id: Optional[int] = None) -> list[str]:
    """Every WeChat label in use (for the filter), sorted."""
    query = select(Friend.tags).where(Friend.deleted_at.is_(None))
    if account_id is not None:
        query = query.where(Friend.account_id == account_id)
    found: set[str] = set()
    for tags in session.exec(query):
        found.update(str(t) for t in (tags or []))
    return sorted(found)


# -- groups --------------------------------------------------------------------------------------

def list_groups(session: Session, account_id: Optional[int] = None, keyword: str = "") -> list[ChatGroup]:
    query = select(ChatGroup).order_by(ChatGroup.account_id, ChatGroup.id)
    if account_id is not None:
        query = query.where(ChatGroup.account_id == account_id)
    if keyword:
        query = query.where(or_(ChatGroup.name.like(f"%{keyword}%"), ChatGroup.chatroom_id.like(f"%{keyword}%")))
    return list(session.exec(query).all())


def get_group(session: Session, group_id: int) -> ChatGroup:
    group = session.get(ChatGroup, group_id)
    if group is None:
        raise AccountNotFound("群")
    return group


def group_members(session: Session, group_id: int, include_left: bool = False) -> list[ChatGroupMember]:
    query = select(ChatGroupMember).where(ChatGroupMember.group_id == group_id)
    if not include_left:
        query = query.where(ChatGroupMember.left_at.is_(None))
    return list(session.exec(query.order_by(ChatGroupMember.joined_at, ChatGroupMember.id)).all())


def account_names(session: Session) -> dict[int, str]:
    """{account id: "昵称（微信号）"} for filters and labels."""
    return {a.id: f"{a.nickname or a.wxid}（{a.alias or a.wxid}）" for a in session.exec(
        select(WechatAccount).order_by(WechatAccount.id)).all()}
