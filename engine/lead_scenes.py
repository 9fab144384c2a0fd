"""Saving a 获客场景: the scene row, its event definition (lead.<key>, fields = the standard lead
fields plus the scene's mapped fields) and, on creation, its default pipeline strategy in the
strategy group 「场景获客」 — enabled with the scene, since a scene without it would only collect.

Every edit is a LeadSceneVersion with a field-level diff. The pipeline reads the scene when each
step runs, so an edit applies to the next lead without a restart (the event definition is
picked up by every process's catalog within its TTL).
"""
from __future__ import annotations

import json
import secrets

from sqlalchemy import func, select
from sqlmodel import Session

from config.clock import utcnow
from crm.leads.errors import LeadsError
from crm.leads.fields import lead_event_fields
from crm.leads.models import (AcquisitionPlan, Lead, LeadAssignState, LeadScene, LeadSceneVersion, PaymentCode,
                              PullCursor, PullRun, QrCode, QrScan)
from crm.leads.scenes import clean_scene, get_scene, get_scene_by_key, record_version, snapshot
from engine import authoring, lifecycle
from engine.impact import definition_change_impact
from events.definitions import create_definition, get_by_code, update_definition
from events.models import EventRecord
from rules.errors import NotFound
from rules.groups import create_group
from rules.models import StrategyGroup
from rules.templates.lead_pipeline import GROUP_NAME, pipeline_spec


def _new_key(session: Session, scene_type: str) -> str:
    while True:
        key = f"{scene_type.lower()}_{secrets.token_hex(3)}"
        if get_scene_by_key(session, key) is None:
            return key


def _credentials(box, raw) -> str | None:
    """Sealed JSON of new credentials; None keeps what is stored (write-only field)."""
    if raw in (None, "", {}):
        return None
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raise LeadsError("平台凭证不是有效的 JSON", {"credentials": "平台凭证不是有效的 JSON 对象"}) from None
    if not isinstance(raw, dict) or not all(isinstance(k, str) and isinstance(v, (str, int)) for k, v in raw.items()):
        raise LeadsError("平台凭证格式错误", {"credentials": "平台凭证应为 {\"名称\": \"值\"} 形式的 JSON 对象"})
    return box.seal(json.dumps(raw, ensure_ascii=False))


def _sync_event(session: Session, scene: LeadScene) -> int:
    data = {"name": f"线索·{scene.name}"[:100], "code": scene.event_code, "enabled": True,
            "remark": f"获客场景「{scene.name}」收到或更新线索时产生（由场景配置维护，请在场景中修改映射规则）",
            "fields": lead_event_fields(scene)}
    existing = get_by_code(session, scene.event_code)
    if existing is None:
        return create_definition(session, data).id
    return update_definition(session, existing.id, {**data, "enabled": existing.enabled}).id


def _refuse_breaking(session: Session, scene: LeadScene, registry) -> None:
    """A mapping edit that drops a field an enabled strategy on this scene's event still tests or
    uses as ${变量} is refused, naming the strategy — never a silently broken strategy."""
    definition = get_by_code(session, scene.event_code)
    if definition is None:
        return
    impact = definition_change_impact(session, definition.id, lead_event_fields(scene), registry)
    if impact:
        named = "；".join(f"「{i['name']}」：{'，'.join(i['problems'])}" for i in impact[:3])
        raise LeadsError(f"映射规则的修改会使已启用的策略失效，请先修改这些策略：{named}",
                         {"mapping_rules": f"会使 {len(impact)} 条已启用策略失效：{named}"})


def _group_id(session: Session) -> int:
    group = session.execute(select(StrategyGroup).where(StrategyGroup.name == GROUP_NAME)).scalars().first()
    return (group or create_group(session, GROUP_NAME)).id


def save_scene(session: Session, data: dict, *, registry, box, author: str = "", scene_id=None,
               tz: str | None = None) -> tuple[LeadScene, str | None]:
    """Creates (scene_id None) or updates a scene; returns (scene, the new webhook secret or None)."""
    existing = get_scene(session, scene_id) if scene_id is not None else None
    clean = clean_scene(session, data, existing)
    sealed_credentials = _credentials(box, data.get("credentials"))
    secret = None
    now = utcnow()
    if existing is None:
        key = clean.pop("key") or _new_key(session, clean["scene_type"])
        scene = LeadScene(**clean, key=key, event_code=f"lead.{key}", created_at=now, updated_at=now)
        secret = "whsec_" + secrets.token_urlsafe(24)
        scene.secret_sealed = box.seal(secret)
        before = None
    else:
        scene, before = existing, snapshot(existing)
        clean.pop("key")
        for name, value in clean.items():
            setattr(scene, name, value)
    if sealed_credentials is not None:
        scene.credentials_sealed = sealed_credentials
    elif data.get("clear_credentials") is True:  # write-only field: clearing is an explicit choice
        scene.credentials_sealed = ""
    if before is not None:
        if snapshot(scene) == before:
            return scene, None
        scene.version += 1
        scene.updated_at = now
    if existing is not None:
        _refuse_breaking(session, scene, registry)
    session.add(scene)
    session.flush()
    event_id = _sync_event(session, scene)
    if existing is None:
        built = pipeline_spec(scene.name, scene.event_code, scene.scene_type)
        strategy = authoring.create_strategy(session, {
            "name": built["name"], "group_id": _group_id(session), "event_id": event_id,
            "conditions": built["conditions"], "steps": built["steps"],
            "remark": f"由获客场景「{scene.name}」创建：识别客户 → 自动打标签 → 分配 → 自动回复，可自行增删步骤"},
            registry, tz, author)
        lifecycle.set_enabled(session, [strategy.id], True)
        scene.strategy_id = strategy.id
        session.add(scene)
    record_version(session, scene, before, author)
    session.flush()
    return scene, secret


def rotate_secret(session: Session, box, scene_id) -> str:
    scene = get_scene(session, scene_id)
    secret = "whsec_" + secrets.token_urlsafe(24)
    scene.secret_sealed = box.seal(secret)
    scene.updated_at = utcnow()
    session.add(scene)
    return secret


def delete_scene(session: Session, scene_id) -> None:
    """Only a scene without leads can go (history must keep where a lead came from): its plans,
    codes, cursors and versions go with it, its strategy is deleted and its event definition too
    unless events of it are stored (then it is disabled)."""
    scene = get_scene(session, scene_id)
    leads = session.execute(select(func.count()).select_from(Lead).where(Lead.scene_id == scene.id)).scalar()
    if leads:
        raise LeadsError(f"场景「{scene.name}」已有 {leads} 条线索，不能删除，可改为停用")
    qr_ids = select(QrCode.id).where(QrCode.scene_id == scene.id)
    for model, where in ((QrScan, QrScan.qr_code_id.in_(qr_ids)), (QrCode, QrCode.scene_id == scene.id),
                         (PaymentCode, PaymentCode.scene_id == scene.id), (AcquisitionPlan, AcquisitionPlan.scene_id == scene.id),
                         (PullRun, PullRun.scene_id == scene.id), (PullCursor, PullCursor.scene_id == scene.id),
                         (LeadAssignState, LeadAssignState.scene_id == scene.id),
                         (LeadSceneVersion, LeadSceneVersion.scene_id == scene.id)):
        for row in session.execute(select(model).where(where)).scalars():
            session.delete(row)
    session.flush()
    if scene.strategy_id:
        try:
            lifecycle.delete_strategy(session, scene.strategy_id)
        except NotFound:  # an operator already deleted it in 自动化策略管理
            pass
    definition = get_by_code(session, scene.event_code)
    if definition is not None:
        used = session.execute(select(EventRecord.id).where(EventRecord.event_definition_id == definition.id).limit(1)).first()
        if used:
            definition.enabled = False
            session.add(definition)
        else:
            session.delete(definition)
    session.delete(scene)
    session.flush()
