"""外呼任务: create and edit a call task, its status flow (未开始 → 进行中 ⇄ 已暂停 → 已完成, the
更新外呼任务状态 of the seed), and the call list, snapshot when the task first starts: leads matching
the filter, or customers with any of the chosen tags, one entry per number (a number twice in the list
is called once). Dialing and results are in call_dialing.py and call_results.py."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlmodel import Session, col, select

from config.clock import as_utc
from config.pii_column import blind_index
from config.timewindow import ClockError, TimeWindow
from crm.customers.models import Customer
from crm.customers.normalize import normalize_mobile
from crm.leads.call_models import RETRYABLE, TASK_SOURCES, TASK_STATES, CallTarget, CallTask
from crm.leads.errors import LeadNotFound, LeadsError
from crm.leads.models import LEAD_STATUSES, Lead
from crm.people.models import User
from crm.tags.models import CustomerTag

# status → the statuses it may move to
TRANSITIONS = {"draft": ("running", "done"), "running": ("paused", "done"), "paused": ("running", "done"), "done": ()}
MAX_TARGETS = 20000


def get_task(session: Session, task_id) -> CallTask:
    try:
        task = session.get(CallTask, int(task_id))
    except (TypeError, ValueError):
        task = None
    if task is None:
        raise LeadNotFound(f"外呼任务 {task_id} 不存在")
    return task


def _int_list(value, field: str, label: str, errors: dict) -> list[int]:
    if value in (None, ""):
        return []
    items = value if isinstance(value, list) else str(value).replace("，", ",").split(",")
    out = []
    for item in items:
        if isinstance(item, bool):
            errors[field] = f"{label}应为 ID 列表"
            return []
        try:
            out.append(int(str(item).strip()))
        except ValueError:
            errors[field] = f"{label}应为 ID 列表"
            return []
    return out


def _bounded(value, field: str, label: str, low: int, high: int, default: int, errors: dict) -> int:
    if value in (None, ""):
        return default
    if isinstance(value, bool):
        errors[field] = f"{label}应为整数"
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        errors[field] = f"{label}应为整数"
        return default
    if not low <= number <= high:
        errors[field] = f"{label}应在 {low}–{high} 之间"
    return number


def clean_task(session: Session, data: dict) -> dict:
    """The task's settings checked; LeadsError naming every bad field (in Chinese)."""
    errors: dict[str, str] = {}
    name = str(data.get("name") or "").strip()
    if not name or len(name) > 100:
        errors["name"] = "任务名称不能为空，最多 100 个字符"
    source = str(data.get("source") or "leads")
    if source not in TASK_SOURCES:
        errors["source"] = "呼叫名单来源只能是按线索筛选或按客户标签"
    raw_filters = data.get("filters") if isinstance(data.get("filters"), dict) else {}
    filters: dict = {}
    if source == "tags":
        filters["tag_ids"] = _int_list(raw_filters.get("tag_ids"), "filters.tag_ids", "标签", errors)
        if not filters["tag_ids"] and "filters.tag_ids" not in errors:
            errors["filters.tag_ids"] = "请至少选择一个标签"
    else:
        for key, label in (("scene_id", "获客场景"), ("channel_id", "渠道")):
            if raw_filters.get(key) not in (None, ""):
                ids = _int_list([raw_filters[key]], f"filters.{key}", label, errors)
                filters[key] = ids[0] if ids else None
        statuses = raw_filters.get("statuses") or []
        statuses = statuses if isinstance(statuses, list) else [statuses]
        unknown = [s for s in statuses if s not in LEAD_STATUSES]
        if unknown:
            errors["filters.statuses"] = f"未知的线索状态：{'、'.join(map(str, unknown))[:100]}"
        filters["statuses"] = [s for s in statuses if s in LEAD_STATUSES]
    seats = _int_list(data.get("seat_user_ids"), "seat_user_ids", "座席", errors)
    if not seats and "seat_user_ids" not in errors:
        errors["seat_user_ids"] = "请至少选择一位座席（拨打电话的员工）"
    elif seats:
        found = set(session.exec(select(User.id).where(col(User.id).in_(seats), User.enabled.is_(True))).all())
        missing = [s for s in seats if s not in found]
        if missing:
            errors["seat_user_ids"] = f"座席不存在或已停用：{', '.join(map(str, missing))}"
    window = str(data.get("window") or "09:00-18:00")
    try:
        window = str(TimeWindow.parse(window))
    except ClockError as exc:
        errors["window"] = str(exc)
    retry_on = data.get("retry_on", list(RETRYABLE))
    retry_on = retry_on if isinstance(retry_on, list) else [retry_on]
    if any(r not in RETRYABLE for r in retry_on):
        errors["retry_on"] = "重拨条件只能是未接通（no_answer）或忙线（busy）"
    script = str(data.get("script") or "")
    if len(script) > 5000:
        errors["script"] = "话术最多 5000 个字符"
    values = {"name": name, "source": source, "filters": filters, "seat_user_ids": sorted(set(seats)), "window": window,
              "max_attempts": _bounded(data.get("max_attempts"), "max_attempts", "最多拨打次数", 1, 10, 3, errors),
              "retry_minutes": _bounded(data.get("retry_minutes"), "retry_minutes", "重拨间隔（分钟）", 1, 1440, 30, errors),
              "retry_on": [r for r in retry_on if r in RETRYABLE], "script": script}
    if errors:
        raise LeadsError("外呼任务设置有误，请按提示修改", errors)
    return values


def create_task(session: Session, data: dict, user_id: Optional[int]) -> CallTask:
    task = CallTask(**clean_task(session, data), created_by=user_id)
    session.add(task)
    session.flush()
    return task


def update_task(session: Session, task_id, data: dict) -> CallTask:
    task = get_task(session, task_id)
    if task.status not in ("draft", "paused"):
        raise LeadsError(f"外呼任务「{task.name}」{TASK_STATES[task.status]}，只能在未开始或已暂停时修改")
    merged = {k: getattr(task, k) for k in ("name", "source", "filters", "seat_user_ids", "window", "max_attempts",
                                            "retry_minutes", "retry_on", "script")}
    merged.update({k: v for k, v in data.items() if k in merged})
    for key, value in clean_task(session, merged).items():
        setattr(task, key, value)
    session.add(task)
    return task


def set_status(session: Session, task_id, status: str, now: datetime) -> CallTask:
    """更新外呼任务状态. Starting the first time snapshots the call list."""
    task = get_task(session, task_id)
    if status not in TASK_STATES:
        raise LeadsError(f"未知的任务状态：{str(status)[:20]}", {"status": "应为 draft/running/paused/done"})
    if status == task.status:
        return task
    if status not in TRANSITIONS[task.status]:
        raise LeadsError(f"外呼任务「{task.name}」{TASK_STATES[task.status]}，不能改为{TASK_STATES[status]}",
                         {"status": "不允许的状态变更"})
    if status == "running" and task.started_at is None:
        task.started_at = as_utc(now)
        if snapshot_targets(session, task) == 0:
            raise LeadsError("呼叫名单为空：没有符合条件且有手机号的线索或客户", {"filters": "呼叫名单为空"})
    if status == "done":
        task.finished_at = as_utc(now)
        for target in session.exec(select(CallTarget).where(CallTarget.task_id == task.id,
                                                            CallTarget.status == "pending")).all():
            target.status, target.reason = "skipped", "任务已完成，未拨打"
            session.add(target)
    task.status = status
    session.add(task)
    session.flush()
    return task


def _candidates(session: Session, task: CallTask):
    if task.source == "tags":
        rows = session.exec(select(Customer.id, Customer.name, Customer.mobile).where(
            col(Customer.id).in_(select(CustomerTag.customer_id).where(col(CustomerTag.tag_id).in_(task.filters["tag_ids"]))),
            Customer.mobile.is_not(None)).order_by(Customer.id).limit(MAX_TARGETS)).all()
        return [(None, cid, name, mobile) for cid, name, mobile in rows]
    query = select(Lead.id, Lead.customer_id, Lead.name, Lead.mobile).where(Lead.mobile.is_not(None))
    f = task.filters or {}
    if f.get("scene_id"):
        query = query.where(Lead.scene_id == f["scene_id"])
    if f.get("channel_id"):
        query = query.where(Lead.channel_id == f["channel_id"])
    if f.get("statuses"):
        query = query.where(col(Lead.status).in_(f["statuses"]))
    return session.exec(query.order_by(Lead.id).limit(MAX_TARGETS)).all()


def snapshot_targets(session: Session, task: CallTask) -> int:
    seen: set[str] = set()
    for lead_id, customer_id, name, mobile in _candidates(session, task):
        try:
            number = normalize_mobile(mobile) if mobile else None
        except ValueError:  # BadContact: a junk number in an old record is not dialled
            number = None
        key = blind_index("mobile", number) if number else None
        if not key or key in seen:
            continue
        seen.add(key)
        session.add(CallTarget(task_id=task.id, lead_id=lead_id, customer_id=customer_id, name=(name or "")[:100],
                               mobile=number))
    session.flush()
    return len(seen)
