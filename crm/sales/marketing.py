"""定向营销: a plan picks customers by tags (包含任一标签, 排除全部这些标签), and at a set time — once,
every day, or every N days — sends them an SMS or e-mail from a 消息模板. With 每次刷新名单 the
audience is recomputed before every push (new customers who got the tag since are included);
without it, the list is frozen at the first push.

A plan may promote a product (商品定向营销, `product_id`): the product's 目标客户群 is then the
audience (the tags, when chosen, narrow it further) and its name, price and link fill
${product_name} / ${product_price} / ${product_link} in the template. crm keeps only the id;
the engine resolves the product (commerce), and the console checks it exists before saving.

This module keeps the plans (create, edit, cancel, copy, list, push history) and says when each
runs next. The push itself goes through the engine's SMS / e-mail processors (engine.marketing).

Functions take the caller's Session and never commit.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Optional

from sqlalchemy import func
from sqlmodel import Session, col, select

from config.clock import as_utc, from_local, utcnow, zone
from config.errors import ClockError
from config.timewindow import clock_time, normalize_clock
from crm.errors import CrmError, NotFound
from crm.sales.models import MarketingPlan, MarketingRun, MessageTemplate
from crm.tags.models import Tag

SCHEDULES = {"once": "执行一次", "daily": "每天", "every_n_days": "每隔 N 天"}
PLAN_STATUSES = {"active": "进行中", "finished": "已结束", "cancelled": "已取消"}
MAX_EVERY_DAYS = 365
DEFAULT_TZ: str | None = None  # the configured zone (config.clock.zone)


def get_plan(session: Session, plan_id: int) -> MarketingPlan:
    plan = session.get(MarketingPlan, plan_id)
    if plan is None:
        raise NotFound("营销计划不存在或已删除")
    return plan


def _tag_list(session: Session, values, field: str, errors: dict) -> list[int]:
    try:
        ids = sorted({int(v) for v in values or []})
    except (TypeError, ValueError):
        errors[field] = "标签选择有误"
        return []
    known = set(session.exec(select(Tag.id).where(col(Tag.id).in_(ids)))) if ids else set()
    if set(ids) - known:
        errors[field] = "所选标签已不存在，请重新选择"
    return ids


def clean_plan(session: Session, data: dict) -> dict:
    errors: dict = {}
    name = str(data.get("name") or "").strip()
    if not name:
        errors["name"] = "请填写计划名称"
    elif len(name) > 100:
        errors["name"] = "计划名称不能超过 100 字"
    include = _tag_list(session, data.get("include_tags"), "include_tags", errors)
    exclude = _tag_list(session, data.get("exclude_tags"), "exclude_tags", errors)
    product_id = None
    if data.get("product_id") not in (None, "", 0, "0"):
        try:
            product_id = int(data["product_id"])
        except (TypeError, ValueError):
            errors["product_id"] = "请选择商品"
    if not include and product_id is None and "include_tags" not in errors and "product_id" not in errors:
        # Without a tag the plan would message every customer; that must be a deliberate tag
        # (or a product, whose 目标客户群 is the audience).
        errors["include_tags"] = "请至少选择一个目标标签，或选择推广商品"
    elif set(include) & set(exclude):
        errors["exclude_tags"] = "同一个标签不能既包含又排除"
    template = None
    try:
        template = session.get(MessageTemplate, int(data.get("template_id") or 0))
    except (TypeError, ValueError):
        pass
    if template is None:
        errors["template_id"] = "请选择消息模板"
    elif not template.enabled:
        errors["template_id"] = f"消息模板「{template.name}」已停用"
    schedule = data.get("schedule") or "once"
    if schedule not in SCHEDULES:
        errors["schedule"] = "执行方式只能是执行一次、每天或每隔 N 天"
    every_days = 1
    if schedule == "every_n_days":
        try:
            every_days = int(data.get("every_days") or 0)
            if not 2 <= every_days <= MAX_EVERY_DAYS:
                raise ValueError
        except (TypeError, ValueError):
            errors["every_days"] = f"间隔天数必须是 2–{MAX_EVERY_DAYS} 的整数"
    run_time = str(data.get("run_time") or "").strip()
    try:
        run_time = normalize_clock(run_time)
    except ClockError:
        errors["run_time"] = "执行时间格式为 HH:MM，例如 10:00"
    starts_on = data.get("starts_on") or None
    if starts_on is not None and (not isinstance(starts_on, date) or isinstance(starts_on, datetime)):
        errors["starts_on"] = "开始日期无效"
    if errors:
        raise CrmError("营销计划有误：" + "；".join(errors.values()), errors)
    return dict(name=name, include_tags=include, exclude_tags=exclude, product_id=product_id,
                template_id=template.id, schedule=schedule,
                every_days=every_days, run_time=run_time, starts_on=starts_on,
                refresh_audience=bool(data.get("refresh_audience")))


def _at(day: date, run_time: str, tz: str) -> datetime:
    return from_local(datetime.combine(day, clock_time(run_time)), tz)


def first_run_at(plan: MarketingPlan, now: datetime, tz: str) -> datetime:
    """The first occurrence at run_time on or after the start date that is not in the past.
    (A plan saved at 11:00 for 10:00 first runs the next day, or N days later for 每隔 N 天.)"""
    now = as_utc(now)
    today = now.astimezone(zone(tz)).date()
    day = max(plan.starts_on or today, today) if plan.schedule != "every_n_days" else (plan.starts_on or today)
    step = timedelta(days=plan.every_days if plan.schedule == "every_n_days" else 1)
    at = _at(day, plan.run_time, tz)
    while at < now:
        day += step
        at = _at(day, plan.run_time, tz)
    return at


def next_run_after(plan: MarketingPlan, scheduled: datetime, now: datetime, tz: str) -> Optional[datetime]:
    """After the push scheduled at `scheduled`: the next one, skipping occurrences the server
    missed while it was down (no burst of catch-up pushes). None for 执行一次."""
    if plan.schedule == "once":
        return None
    step = timedelta(days=plan.every_days if plan.schedule == "every_n_days" else 1)
    day = as_utc(scheduled).astimezone(zone(tz)).date() + step
    at = _at(day, plan.run_time, tz)
    while at <= as_utc(now):
        day += step
        at = _at(day, plan.run_time, tz)
    return at


def create_plan(session: Session, data: dict, user_id: Optional[int] = None, now: Optional[datetime] = None,
                tz: str = DEFAULT_TZ) -> MarketingPlan:
    now = as_utc(now or utcnow())
    plan = MarketingPlan(**clean_plan(session, data), created_by=user_id, created_at=now, status="active")
    plan.next_run_at = first_run_at(plan, now, tz)
    session.add(plan)
    session.flush()
    return plan


def update_plan(session: Session, plan_id: int, data: dict, now: Optional[datetime] = None,
                tz: str = DEFAULT_TZ) -> MarketingPlan:
    now = as_utc(now or utcnow())
    plan = get_plan(session, plan_id)
    if plan.status != "active":
        raise CrmError(f"计划{PLAN_STATUSES[plan.status]}，不能修改；可以复制后重新设置", {"__all__": "计划不可修改"})
    fields = clean_plan(session, data)
    if (fields["include_tags"], fields["exclude_tags"], fields["product_id"]) != (
            plan.include_tags, plan.exclude_tags, plan.product_id) \
            or fields["refresh_audience"]:
        plan.frozen_audience = []  # the tags changed: the next push freezes the new list
    timing = ("schedule", "every_days", "run_time", "starts_on")
    retime = any(fields[k] != getattr(plan, k) for k in timing)
    for name, value in fields.items():
        setattr(plan, name, value)
    if retime:
        plan.next_run_at = first_run_at(plan, now, tz)
    session.add(plan)
    session.flush()
    return plan


def cancel_plan(session: Session, plan_id: int) -> MarketingPlan:
    plan = get_plan(session, plan_id)
    if plan.status != "active":
        raise CrmError(f"计划{PLAN_STATUSES[plan.status]}，无需取消", {"__all__": "计划不在进行中"})
    plan.status, plan.next_run_at = "cancelled", None
    session.add(plan)
    session.flush()
    return plan


def copy_plan(session: Session, plan_id: int, user_id: Optional[int] = None, now: Optional[datetime] = None,
              tz: str = DEFAULT_TZ) -> MarketingPlan:
    """复制: the same targeting, template and timing as a new active plan (no frozen list, no history)."""
    now = as_utc(now or utcnow())
    src = get_plan(session, plan_id)
    plan = MarketingPlan(name=f"{src.name}（副本）"[:100], include_tags=list(src.include_tags),
                         exclude_tags=list(src.exclude_tags), product_id=src.product_id, template_id=src.template_id,
                         schedule=src.schedule,
                         every_days=src.every_days, run_time=src.run_time,
                         starts_on=src.starts_on if src.starts_on and src.starts_on > now.date() else None,
                         refresh_audience=src.refresh_audience, created_by=user_id, created_at=now)
    plan.next_run_at = first_run_at(plan, now, tz)
    session.add(plan)
    session.flush()
    return plan


def list_plans(session: Session, status: Optional[str] = None, page: int = 1,
               per_page: int = 20) -> tuple[list[dict], int]:
    """Plans newest first with their template name and last push."""
    where = [MarketingPlan.status == status] if status in PLAN_STATUSES else []
    total = session.exec(select(func.count()).select_from(MarketingPlan).where(*where)).one()
    plans = list(session.exec(select(MarketingPlan).where(*where).order_by(MarketingPlan.id.desc())
                              .offset((max(1, page) - 1) * per_page).limit(per_page)))
    ids = [p.id for p in plans]
    templates = {t.id: t for t in session.exec(select(MessageTemplate).where(
        col(MessageTemplate.id).in_({p.template_id for p in plans})))} if plans else {}
    last_ids = session.exec(select(func.max(MarketingRun.id)).where(col(MarketingRun.plan_id).in_(ids))
                            .group_by(MarketingRun.plan_id)).all() if ids else []
    last = {r.plan_id: r for r in session.exec(select(MarketingRun).where(col(MarketingRun.id).in_(last_ids)))} \
        if last_ids else {}
    runs = dict(session.exec(select(MarketingRun.plan_id, func.count()).where(col(MarketingRun.plan_id).in_(ids))
                             .group_by(MarketingRun.plan_id)).all()) if ids else {}
    return [{"plan": p, "template": templates.get(p.template_id), "last_run": last.get(p.id),
             "run_count": runs.get(p.id, 0)} for p in plans], total


def list_runs(session: Session, plan_id: int, limit: int = 100) -> list[MarketingRun]:
    """推送历史, newest first."""
    return list(session.exec(select(MarketingRun).where(MarketingRun.plan_id == plan_id)
                             .order_by(MarketingRun.id.desc()).limit(limit)))


def tag_names(session: Session, ids) -> dict[int, str]:
    ids = list(ids or [])
    return dict(session.exec(select(Tag.id, Tag.name).where(col(Tag.id).in_(ids))).all()) if ids else {}
