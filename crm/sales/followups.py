"""跟进记录: what a salesperson did with a customer (date, way, content, status, 成熟度 0–100,
next follow-up date). Recording one finishes its task, counts the follow-up on the customer and
on the customer's groups (the recycle rules read those), writes a 成长记录, schedules the next
跟进任务 and emits `crm.followup_recorded` so strategies can react.

Functions take the caller's Session and never commit; nothing is written when input is bad.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Optional

from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from config.clock import as_utc, utcnow
from crm.customers.models import Customer, GrowthRecord
from crm.errors import CrmError, NotFound
from crm.events_out import emit
from crm.groups.models import GroupLink, GroupMember
from crm.sales.models import FollowUp, Task
from crm.sales.task_dates import end_of_day
from crm.sales.tasks import DEFAULT_TZ
from crm.scope import Viewer, follow_ups as follow_up_scope, load

WAYS = {"phone": "电话", "wechat": "微信", "visit": "拜访", "sms": "短信", "email": "邮件", "other": "其他"}
STATUSES = {"following": "跟进中", "intent": "有意向", "deal": "已成交", "invalid": "无效客户"}
EVENT_CODE = "crm.followup_recorded"


def _clean(session: Session, data: dict, now: datetime, viewer: Viewer) -> dict:
    errors: dict = {}
    customer = None
    try:  # another salesperson's customer reads as no customer at all (crm.scope)
        customer = load(session, viewer, Customer, data.get("customer_id"))
    except NotFound:
        pass
    if customer is None:
        errors["customer_id"] = "请选择要跟进的客户"
    content = str(data.get("content") or "").strip()
    if not content:
        errors["content"] = "请填写跟进内容"
    elif len(content) > 2000:
        errors["content"] = "跟进内容不能超过 2000 字"
    way = data.get("way") or "phone"
    if way not in WAYS:
        errors["way"] = "跟进方式只能是" + "、".join(WAYS.values())
    status = data.get("status") or "following"
    if status not in STATUSES:
        errors["status"] = "跟进状态只能是" + "、".join(STATUSES.values())
    try:
        maturity = int(data.get("maturity") or 0)
        if not 0 <= maturity <= 100:
            raise ValueError
    except (TypeError, ValueError):
        errors["maturity"] = "成熟度必须是 0–100 的整数"
        maturity = 0
    followed_at = data.get("followed_at") or now
    if not isinstance(followed_at, datetime):
        errors["followed_at"] = "跟进时间无效"
    elif as_utc(followed_at) > now:
        errors["followed_at"] = "跟进时间不能晚于现在"
    next_on = data.get("next_follow_on")
    if next_on in ("", None):
        next_on = None
    elif not isinstance(next_on, date) or isinstance(next_on, datetime):
        errors["next_follow_on"] = "下次跟进日期无效"
    task = None
    if data.get("task_id"):
        try:
            task = load(session, viewer, Task, data["task_id"])
        except NotFound:
            task = None
        if task is None:
            errors["task_id"] = "关联的任务不存在"
        elif customer is not None and task.customer_id not in (None, customer.id):
            errors["task_id"] = "关联的任务属于另一位客户"
    if errors:
        raise CrmError("跟进记录有误：" + "；".join(errors.values()), errors)
    return dict(customer=customer, task=task, content=content, way=way, status=status, maturity=maturity,
                followed_at=as_utc(followed_at), next_follow_on=next_on)


def record_follow_up(session: Session, data: dict, user_id: int, now: Optional[datetime] = None,
                     tz: str = DEFAULT_TZ, *, viewer: Viewer) -> FollowUp:
    """Saves a 跟进记录 and everything it implies (see the module docstring); the customer and
    task must be ones `viewer` may see."""
    now = as_utc(now or utcnow())
    f = _clean(session, data, now, viewer)
    customer, task = f["customer"], f["task"]
    record = FollowUp(customer_id=customer.id, task_id=task.id if task else None, user_id=user_id,
                      followed_at=f["followed_at"], way=f["way"], content=f["content"], status=f["status"],
                      maturity=f["maturity"], next_follow_on=f["next_follow_on"])
    session.add(record)
    if task is not None and task.status != "done":
        task.status, task.progress, task.finished_at = "done", 100, now
        session.add(task)
    at = f["followed_at"]
    # A back-dated record counts but must not move 最近跟进时间 backwards.
    latest = max(at, as_utc(customer.last_followed_at)) if customer.last_followed_at else at
    session.exec(update(Customer).where(Customer.id == customer.id).values(
        follow_count=Customer.follow_count + 1, last_followed_at=latest, updated_at=now))
    my_groups = select(GroupMember.group_id).where(GroupMember.user_id == user_id)
    session.exec(update(GroupLink).where(
        GroupLink.customer_id == customer.id,
        or_(col(GroupLink.group_id).in_(my_groups), GroupLink.assignee_id == user_id),
    ).values(last_followed_at=at, progress=f["status"]))
    summary = f"{WAYS[f['way']]}跟进（{STATUSES[f['status']]}，成熟度 {f['maturity']}）：{f['content']}"
    session.add(GrowthRecord(customer_id=customer.id, kind="follow", summary=summary[:500], operator_id=user_id,
                             created_at=now))
    next_task = None
    if f["next_follow_on"] is not None:
        next_task = Task(title=f"跟进客户 {customer.name or '#' + str(customer.id)}"[:200], kind="follow_up",
                         customer_id=customer.id, owner_id=user_id, creator_id=user_id,
                         deadline=end_of_day(f["next_follow_on"], tz), created_at=now)
        session.add(next_task)
    session.flush()
    data = {
        "customer_id": customer.id, "customer_name": customer.name or "", "mobile": customer.mobile or "",
        "email": customer.email or "", "user_id": user_id, "follow_up_id": record.id, "way": f["way"],
        "status": f["status"], "maturity": f["maturity"], "content": f["content"],
        "next_follow_on": f["next_follow_on"].isoformat() if f["next_follow_on"] else "",
        "task_id": task.id if task else None, "next_task_id": next_task.id if next_task else None,
    }
    emit(session, EVENT_CODE, {k: v for k, v in data.items() if v is not None}, tz)
    return record


def list_follow_ups(session: Session, customer_id: Optional[int] = None, user_id: Optional[int] = None,
                    limit: int = 50, viewer: Optional[Viewer] = None) -> list[FollowUp]:
    """Newest first, for a customer's detail page or a salesperson's own history; with a
    `viewer`, only records on customers they may still see."""
    where = [follow_up_scope(viewer)] if viewer is not None else []
    if customer_id is not None:
        where.append(FollowUp.customer_id == customer_id)
    if user_id is not None:
        where.append(FollowUp.user_id == user_id)
    return list(session.exec(select(FollowUp).where(*where)
                             .order_by(FollowUp.followed_at.desc(), FollowUp.id.desc()).limit(limit)))
