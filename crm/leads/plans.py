"""获客计划: a campaign on one scene (抖音获客, 电话获客 …) with a lead goal, a period, the channels it
runs on and its content (营销话术, 素材, 海报, 抖音账号, 电话号码池). A plan is drafted, started
(进行中), paused and ended; its progress is the leads that arrived under it against the goal.

The plan holds no processing rules of its own: tagging, assignment and answering belong to the
scene, so every plan on that scene shares them and an edit applies to the next lead.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from typing import Iterable, Optional

from sqlalchemy import case, func
from sqlmodel import Session, select

from config.clock import utcnow
from config.pii import fold_digits
from crm.leads.errors import LeadNotFound, LeadsError
from crm.leads.models import PLAN_STATUSES, SCENE_TYPES, AcquisitionPlan, Lead, LeadChannel, LeadScene

MAX_SCRIPTS = 20
MAX_LIST_ITEMS = 50
MAX_GOAL = 10_000_000
COLOR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
PHONE_RE = re.compile(r"^\+?[0-9]{5,20}$")
PHONE_SEPARATORS = re.compile(r"[\s\-()（）]")
# 启动 / 暂停 / 结束: which status each action may leave from.
TRANSITIONS = {
    "running": {"draft", "paused"},
    "paused": {"running"},
    "ended": {"draft", "running", "paused"},
}
ACTION_LABELS = {"running": "启动", "paused": "暂停", "ended": "结束"}
# A lead counts as assigned once it has an owner, whatever happened to it afterwards.
ASSIGNED_STATUSES = ("ASSIGNED", "PROCESSING", "CONVERTED")


def get_plan(session: Session, plan_id: int) -> AcquisitionPlan:
    plan = session.get(AcquisitionPlan, plan_id)
    if plan is None:
        raise LeadNotFound("获客计划不存在", {"plan_id": "获客计划不存在"})
    return plan


def list_plans(session: Session, scene_type: Optional[str] = None, status: Optional[str] = None) -> list[AcquisitionPlan]:
    """Plans newest first, optionally of one scene type (the tabs) and one status."""
    query = select(AcquisitionPlan).order_by(AcquisitionPlan.id.desc())
    if scene_type:
        query = query.join(LeadScene, LeadScene.id == AcquisitionPlan.scene_id).where(LeadScene.scene_type == scene_type)
    if status:
        query = query.where(AcquisitionPlan.status == status)
    return list(session.exec(query).all())


def _text(data: dict, name: str, limit: int, errors: dict, label: str, required: bool = False, key: str = "") -> str:
    value = str(data.get(name) or "").strip()
    if required and not value:
        errors[key or name] = f"请填写{label}"
    elif len(value) > limit:
        errors[key or name] = f"{label}不能超过 {limit} 个字"
    return value


def _date(data: dict, name: str, errors: dict, label: str) -> Optional[date]:
    value = data.get(name)
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        errors[name] = f"{label}格式不正确（应为 年-月-日）"
        return None


def _ids(values: Iterable, name: str, errors: dict, label: str) -> list[int]:
    out: list[int] = []
    for value in values or []:
        try:
            number = int(value)
        except (TypeError, ValueError):
            errors[name] = f"{label}「{value}」不是有效的编号"
            continue
        if number not in out:
            out.append(number)
    return out


def _lines(values, name: str, errors: dict, label: str, limit: int, max_items: int = MAX_LIST_ITEMS) -> list[str]:
    """A list typed one per line (or already a list) → trimmed, blank-free, de-duplicated."""
    if isinstance(values, str):
        values = values.splitlines()
    out = []
    for value in values or []:
        text = str(value).strip()
        if not text or text in out:
            continue
        if len(text) > limit:
            errors[name] = f"{label}每一项不能超过 {limit} 个字"
        out.append(text)
    if len(out) > max_items:
        errors[name] = f"{label}最多 {max_items} 项"
    return out


def _phones(values, errors: dict) -> list[str]:
    out = []
    for text in _lines(values, "content.phone_numbers", errors, "电话号码", 40):
        number = PHONE_SEPARATORS.sub("", fold_digits(unicodedata.normalize("NFKC", text)))
        if not PHONE_RE.match(number):
            errors["content.phone_numbers"] = f"电话号码「{text}」格式不正确"
        elif number not in out:
            out.append(number)
    return out


def _content(scene_type: str, raw: dict, errors: dict, material_ids: Optional[set]) -> dict:
    """The plan's content; the fields that only make sense for another scene type are dropped."""
    content: dict = {"scripts": _lines(raw.get("scripts"), "content.scripts", errors, "营销话术", 1000, MAX_SCRIPTS)}
    chosen = _ids(raw.get("material_ids"), "content.material_ids", errors, "素材")
    unknown = [i for i in chosen if material_ids is not None and i not in material_ids]
    if unknown:
        errors["content.material_ids"] = f"素材 {', '.join(map(str, unknown))} 不存在或已删除"
    content["material_ids"] = chosen
    if scene_type == "SOCIAL_MEDIA_LEAD":
        content["douyin_accounts"] = _lines(raw.get("douyin_accounts"), "content.douyin_accounts", errors, "抖音账号", 100)
    if scene_type == "PHONE_CALL":
        content["phone_numbers"] = _phones(raw.get("phone_numbers"), errors)
    if scene_type == "QR_CODE_SCAN":
        poster = raw.get("poster") if isinstance(raw.get("poster"), dict) else {}
        title = _text(poster, "title", 100, errors, "海报标题", key="content.poster.title")
        subtitle = _text(poster, "subtitle", 200, errors, "海报副标题", key="content.poster.subtitle")
        color = str(poster.get("color") or "#1f6feb").strip()
        if not COLOR_RE.match(color):
            errors["content.poster.color"] = "海报主色应为 #RRGGBB 格式"
        content["poster"] = {"title": title, "subtitle": subtitle, "color": color}
    return content


def clean_plan(session: Session, data: dict, *, material_ids: Optional[set] = None,
               plan_id: Optional[int] = None) -> dict:
    """Checks a plan form/API body and returns the values to store; LeadsError names every bad
    field. `material_ids` are the 素材 that exist (the caller reads the content library)."""
    errors: dict = {}
    name = _text(data, "name", 100, errors, "计划名称", required=True)
    clash = select(AcquisitionPlan.id).where(AcquisitionPlan.name == name)
    if name and session.exec(clash.where(AcquisitionPlan.id != plan_id) if plan_id else clash).first() is not None:
        errors["name"] = f"已有名为「{name}」的获客计划"
    scene = None
    try:
        scene = session.get(LeadScene, int(data.get("scene_id") or 0)) if data.get("scene_id") else None
    except (TypeError, ValueError):
        pass
    if scene is None:
        errors["scene_id"] = "请选择获客场景"
    elif data.get("scene_type") and data["scene_type"] != scene.scene_type:
        errors["scene_id"] = f"场景「{scene.name}」不是{SCENE_TYPES.get(data['scene_type'], '所选')}类型"
    try:
        goal = int(data.get("goal_leads") or 0)
        if not 0 <= goal <= MAX_GOAL:
            raise ValueError
    except (TypeError, ValueError):
        errors["goal_leads"] = f"目标线索数应为 0 到 {MAX_GOAL} 的整数"
        goal = 0
    goal_note = _text(data, "goal_note", 500, errors, "目标说明")
    starts_on = _date(data, "starts_on", errors, "开始日期")
    ends_on = _date(data, "ends_on", errors, "结束日期")
    if starts_on and ends_on and ends_on < starts_on:
        errors["ends_on"] = "结束日期不能早于开始日期"
    channel_ids = _ids(data.get("channel_ids"), "channel_ids", errors, "渠道")
    if channel_ids:
        found = set(session.exec(select(LeadChannel.id).where(LeadChannel.id.in_(channel_ids))).all())
        missing = [i for i in channel_ids if i not in found]
        if missing:
            errors["channel_ids"] = f"渠道 {', '.join(map(str, missing))} 不存在"
    raw_content = data.get("content") if isinstance(data.get("content"), dict) else {}
    content = _content(scene.scene_type if scene else "", raw_content, errors, material_ids)
    if errors:
        raise LeadsError("获客计划填写有误，请按提示修改", errors)
    return {"name": name, "scene_id": scene.id, "goal_leads": goal, "goal_note": goal_note, "starts_on": starts_on,
            "ends_on": ends_on, "channel_ids": channel_ids, "content": content}


def create_plan(session: Session, data: dict, *, user_id: Optional[int] = None, material_ids: Optional[set] = None,
                start: bool = False, today: Optional[date] = None) -> AcquisitionPlan:
    """A new plan is a 草稿 (draft); with `start` it is started at once (启动计划)."""
    values = clean_plan(session, data, material_ids=material_ids)
    plan = AcquisitionPlan(**values, status="draft", created_by=user_id)
    session.add(plan)
    session.flush()
    if start:
        set_status(session, plan.id, "running", today)
    return plan


def update_plan(session: Session, plan_id: int, data: dict, *, material_ids: Optional[set] = None,
                start: bool = False, today: Optional[date] = None) -> AcquisitionPlan:
    """Edits a plan. Its scene stays: the leads it already counted came through that scene."""
    plan = get_plan(session, plan_id)
    values = clean_plan(session, {**data, "scene_id": plan.scene_id}, material_ids=material_ids, plan_id=plan_id)
    for key, value in values.items():
        setattr(plan, key, value)
    plan.updated_at = utcnow()
    session.add(plan)
    session.flush()
    if start and plan.status in TRANSITIONS["running"]:
        set_status(session, plan.id, "running", today)
    return plan


def set_status(session: Session, plan_id: int, status: str, today: Optional[date] = None) -> AcquisitionPlan:
    """启动 (running), 暂停 (paused) or 结束 (ended). A plan starts only on an enabled scene and
    before its end date; an ended plan stays ended (copy it into a new plan instead)."""
    plan = get_plan(session, plan_id)
    if status not in TRANSITIONS:
        raise LeadsError("未知的计划状态", {"status": f"状态应为 {', '.join(TRANSITIONS)} 之一"})
    if plan.status not in TRANSITIONS[status]:
        raise LeadsError(f"「{PLAN_STATUSES.get(plan.status, plan.status)}」的计划不能{ACTION_LABELS[status]}",
                         {"status": f"当前状态为{PLAN_STATUSES.get(plan.status, plan.status)}"})
    if status == "running":
        scene = session.get(LeadScene, plan.scene_id)
        if scene is None or not scene.is_enabled:
            raise LeadsError(f"场景「{scene.name if scene else plan.scene_id}」已停用，请先启用场景再启动计划",
                             {"status": "场景已停用"})
        if today and plan.ends_on and plan.ends_on < today:
            raise LeadsError("计划已过结束日期，不能启动；请修改结束日期", {"ends_on": "结束日期早于今天"})
    plan.status = status
    plan.updated_at = utcnow()
    session.add(plan)
    session.flush()
    return plan


def delete_plan(session: Session, plan_id: int) -> None:
    """Only a plan that no lead points to can go; otherwise 结束 it (its figures stay)."""
    plan = get_plan(session, plan_id)
    used = session.exec(select(func.count()).select_from(Lead).where(Lead.plan_id == plan_id)).one()
    if used:
        raise LeadsError(f"计划「{plan.name}」已有 {used} 条线索，不能删除；可以结束该计划",
                         {"plan_id": "计划已有线索"})
    session.delete(plan)
    session.flush()


def plan_counts(session: Session, plans: list[AcquisitionPlan]) -> dict[int, dict]:
    """Per plan: leads, assigned, converted and the goal progress in percent (capped at 100)."""
    ids = [p.id for p in plans]
    rows = {}
    if ids:
        query = (select(Lead.plan_id, func.count(),
                        func.sum(case((Lead.status.in_(ASSIGNED_STATUSES), 1), else_=0)),
                        func.sum(case((Lead.status == "CONVERTED", 1), else_=0)))
                 .where(Lead.plan_id.in_(ids)).group_by(Lead.plan_id))
        rows = {pid: (int(n), int(a or 0), int(c or 0)) for pid, n, a, c in session.exec(query).all()}
    out = {}
    for plan in plans:
        leads, assigned, converted = rows.get(plan.id, (0, 0, 0))
        progress = min(100, round(leads * 100 / plan.goal_leads)) if plan.goal_leads else None
        out[plan.id] = {"leads": leads, "assigned": assigned, "converted": converted, "progress": progress,
                        "conversion": round(converted * 100 / leads, 1) if leads else 0.0}
    return out


def scene_type_summary(session: Session, today_start: datetime, week_start: datetime) -> dict[str, dict]:
    """For the 场景获客 home, per scene type: scenes (enabled/all), leads since the start of today
    and of the last 7 days, and plans running."""
    out = {key: {"scenes": 0, "enabled": 0, "today": 0, "week": 0, "running": 0} for key in SCENE_TYPES}
    for scene_type, enabled, n in session.exec(select(LeadScene.scene_type, LeadScene.is_enabled, func.count())
                                               .group_by(LeadScene.scene_type, LeadScene.is_enabled)).all():
        if scene_type in out:
            out[scene_type]["scenes"] += n
            out[scene_type]["enabled"] += n if enabled else 0
    leads = (select(LeadScene.scene_type, func.sum(case((Lead.created_at >= today_start, 1), else_=0)), func.count())
             .select_from(Lead).join(LeadScene, LeadScene.id == Lead.scene_id).where(Lead.created_at >= week_start)
             .group_by(LeadScene.scene_type))
    for scene_type, today, week in session.exec(leads).all():
        if scene_type in out:
            out[scene_type].update(today=int(today or 0), week=int(week))
    running = (select(LeadScene.scene_type, func.count()).select_from(AcquisitionPlan).join(LeadScene, LeadScene.id == AcquisitionPlan.scene_id)
               .where(AcquisitionPlan.status == "running").group_by(LeadScene.scene_type))
    for scene_type, n in session.exec(running).all():
        if scene_type in out:
            out[scene_type]["running"] = n
    return out


def lead_counts(session: Session, by: str, since: datetime) -> dict[int, dict]:
    """Leads per scene (`by="scene"`) or channel (`by="channel"`): all of them and those since
    `since` (the lists show 累计 and 近7天)."""
    column = {"scene": Lead.scene_id, "channel": Lead.channel_id}[by]
    query = (select(column, func.count(), func.sum(case((Lead.created_at >= since, 1), else_=0)))
             .where(column.is_not(None)).group_by(column))
    return {key: {"total": int(n), "recent": int(recent or 0)} for key, n, recent in session.exec(query).all()}
