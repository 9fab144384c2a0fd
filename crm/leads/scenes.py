"""获客场景配置: checking a scene's settings (mapping, tag rules, assignment, auto response, dedup)
before they are saved, finding the scene a submission belongs to, and keeping every edit as a
version. Secrets (the webhook signing secret, platform credentials) are sealed at rest and never
leave this module in clear except to the code that signs or verifies.
"""
from __future__ import annotations

import json
import re
from typing import Any, Optional

from sqlmodel import Session, select

from crm.leads.errors import LeadNotFound, LeadsError, SubmissionRefused
from crm.leads.fields import CUSTOM_NAME_RE, ENVELOPE_NAMES, STANDARD_NAMES, lead_event_fields
from crm.leads.mapping import TRANSFORMS
from crm.leads.pull_state import clean_pull_params
from crm.leads.models import DEDUP_STRATEGIES, SCENE_TYPES, LeadChannel, LeadScene, LeadSceneVersion
from crm.sales.models import MessageTemplate
from crm.tags.models import Tag
from events.models import FIELD_TYPES
from rules.conditions import ConditionError, parse_conditions

KEY_RE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
RESPONSE_CHANNELS = {"": "不自动回复", "sms": "短信模板", "email": "邮件模板", "device": "微信加好友并打招呼"}
VERSIONED = ("name", "scene_type", "is_enabled", "default_channel_id", "params", "mapping_rules", "tagging_rules",
             "assignment_rules", "auto_response", "dedup_strategy", "rate_limit_per_minute")
MAX_JSON = 64 * 1024


def get_scene(session: Session, scene_id) -> LeadScene:
    try:
        row = session.get(LeadScene, int(scene_id))
    except (TypeError, ValueError):
        row = None
    if row is None:
        raise LeadNotFound(f"获客场景 {scene_id} 不存在")
    return row


def get_scene_by_key(session: Session, key: str) -> Optional[LeadScene]:
    return session.exec(select(LeadScene).where(LeadScene.key == str(key))).first()


def list_scenes(session: Session, scene_type: Optional[str] = None) -> list[LeadScene]:
    query = select(LeadScene).order_by(LeadScene.id)
    if scene_type:
        query = query.where(LeadScene.scene_type == scene_type)
    return list(session.exec(query))


def resolve_scene(session: Session, scene_id=None, scene_type: Optional[str] = None,
                  key: Optional[str] = None) -> LeadScene:
    """The enabled scene a submission names (by id, key, or a type with exactly one enabled scene)."""
    if scene_id not in (None, ""):
        if isinstance(scene_id, bool) or not str(scene_id).isdigit():
            raise SubmissionRefused("scene_config_id 应为整数", {"scene_config_id": "scene_config_id 应为整数"})
        scene = session.get(LeadScene, int(scene_id))
        if scene is None:
            raise SubmissionRefused(f"获客场景 {scene_id} 不存在", {"scene_config_id": f"获客场景 {scene_id} 不存在"})
    elif key not in (None, ""):
        scene = get_scene_by_key(session, str(key))
        if scene is None:
            raise SubmissionRefused(f"获客场景「{key}」不存在", {"scene_key": f"获客场景「{key}」不存在"})
    elif scene_type not in (None, ""):
        if scene_type not in SCENE_TYPES:
            raise SubmissionRefused(f"场景类型「{scene_type}」无效", {"scene_type": f"场景类型「{scene_type}」无效，可选：{'、'.join(SCENE_TYPES)}"})
        enabled = [s for s in list_scenes(session, str(scene_type)) if s.is_enabled]
        if not enabled:
            raise SubmissionRefused(f"没有启用的「{SCENE_TYPES[scene_type]}」场景", {"scene_type": f"没有启用的「{SCENE_TYPES[scene_type]}」场景"})
        if len(enabled) > 1:
            raise SubmissionRefused("该类型有多个启用的场景，请用 scene_config_id 或 scene_key 指定",
                                    {"scene_type": "该类型有多个启用的场景，请用 scene_config_id 或 scene_key 指定"})
        scene = enabled[0]
    else:
        raise SubmissionRefused("缺少场景：请提供 scene_type、scene_config_id 或 scene_key", {"scene_type": "缺少场景"})
    if not scene.is_enabled:
        raise SubmissionRefused(f"获客场景「{scene.name}」已停用", {"scene": f"获客场景「{scene.name}」已停用"})
    return scene


# -- checking settings ------------------------------------------------------------------------
def _json_ok(value: Any, name: str, label: str, errors: dict, kind: type) -> Any:
    if value in (None, ""):
        return kind()
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            errors[name] = f"{label}不是有效的 JSON"
            return kind()
    if not isinstance(value, kind):
        errors[name] = f"{label}格式错误（应为{'对象' if kind is dict else '列表'}）"
        return kind()
    if len(json.dumps(value, ensure_ascii=False)) > MAX_JSON:
        errors[name] = f"{label}过大（最多 64 KB）"
    return value


def clean_mapping(rules: list, errors: dict) -> list[dict]:
    out, seen = [], set()
    if len(rules) > 100:
        errors["mapping_rules"] = "映射规则最多 100 条"
    for i, rule in enumerate(rules):
        where = f"mapping_rules[{i}]"
        if not isinstance(rule, dict):
            errors[where] = f"第 {i + 1} 条映射规则格式错误"
            continue
        target = str(rule.get("target") or "").strip()
        source = str(rule.get("source") or "").strip()
        if target in ENVELOPE_NAMES or not (target in STANDARD_NAMES or CUSTOM_NAME_RE.match(target)):
            errors[f"{where}.target"] = f"第 {i + 1} 条映射规则的目标字段「{target}」无效：小写字母开头，仅含小写字母、数字、下划线"
        elif target in seen:
            errors[f"{where}.target"] = f"目标字段「{target}」重复映射"
        seen.add(target)
        if not source and rule.get("default") in (None, ""):
            errors[f"{where}.source"] = f"第 {i + 1} 条映射规则缺少来源字段路径"
        elif len(source) > 200:
            errors[f"{where}.source"] = f"第 {i + 1} 条映射规则的来源路径最多 200 个字符"
        transform = str(rule.get("transform") or "")
        if transform not in TRANSFORMS:
            errors[f"{where}.transform"] = f"第 {i + 1} 条映射规则的转换「{transform}」无效"
        type_ = str(rule.get("type") or "text")
        if type_ not in FIELD_TYPES:
            errors[f"{where}.type"] = f"第 {i + 1} 条映射规则的类型「{type_}」无效"
        out.append({"source": source, "target": target, "transform": transform, "type": type_,
                    "label": str(rule.get("label") or "").strip()[:50], "default": rule.get("default"),
                    "required": bool(rule.get("required"))})
    return out


def _usable_tags(session: Session, raw, where: str, errors: dict) -> list[int]:
    ids = []
    for value in raw if isinstance(raw, list) else [raw]:
        try:
            tag = session.get(Tag, int(value))
        except (TypeError, ValueError):
            tag = None
        if tag is None:
            errors[where] = f"标签「{value}」不存在"
        elif tag.kind != "manual" or tag.owner_id is not None:
            errors[where] = f"标签「{tag.name}」是自动标签或个人标签，不能由获客场景添加（请选全局手动标签）"
        else:
            ids.append(tag.id)
    if not ids and where not in errors:
        errors[where] = "请至少选择一个标签"
    return ids


def clean_tagging(session: Session, rules: list, fields: list[dict], errors: dict) -> list[dict]:
    out = []
    for i, rule in enumerate(rules):
        where = f"tagging_rules[{i}]"
        if not isinstance(rule, dict):
            errors[where] = f"第 {i + 1} 条打标签规则格式错误"
            continue
        name = str(rule.get("name") or f"规则{i + 1}").strip()[:100]
        rows = rule.get("rows") or []
        try:
            parse_conditions(rows, fields)
        except ConditionError as exc:
            errors[f"{where}.rows"] = f"打标签规则「{name}」的条件有误：{exc.message}"
        out.append({"name": name, "rows": rows, "tags": _usable_tags(session, rule.get("tags"), f"{where}.tags", errors)})
    return out


def clean_response(session: Session, raw: dict, errors: dict) -> dict:
    channel = str(raw.get("channel") or "")
    if channel not in RESPONSE_CHANNELS:
        errors["auto_response.channel"] = f"自动回复方式「{channel}」无效"
        return {}
    out = {"channel": channel}
    if channel in ("sms", "email"):
        ref = str(raw.get("template") or "").strip()
        template = None
        if ref:
            query = select(MessageTemplate).where(
                MessageTemplate.id == int(ref) if ref.isdigit() else MessageTemplate.code == ref)
            template = session.exec(query).first()
        if template is None:
            errors["auto_response.template"] = f"消息模板「{ref}」不存在" if ref else "请选择消息模板"
        elif template.channel != channel:
            errors["auto_response.template"] = f"模板「{template.name}」是{'短信' if template.channel == 'sms' else '邮件'}模板，与回复方式不符"
        else:
            out["template"] = template.code or str(template.id)
    elif channel == "device":
        text = str(raw.get("device_text") or "").strip()
        if not text:
            errors["auto_response.device_text"] = "请填写打招呼内容"
        elif len(text) > 200:
            errors["auto_response.device_text"] = "打招呼内容最多 200 个字符"
        out["device_text"] = text
        out["device_account"] = str(raw.get("device_account") or "").strip()[:64]
        if not out["device_account"]:
            errors["auto_response.device_account"] = "请指定用于打招呼的微信号（微信号ID或wxid）"
    if raw.get("repeat_days") not in (None, ""):  # a returning customer is answered once per this many days
        try:
            out["repeat_days"] = int(str(raw["repeat_days"]).strip())
            if not 0 <= out["repeat_days"] <= 365:
                raise ValueError
        except ValueError:
            errors["auto_response.repeat_days"] = "老客户重复回复间隔应为 0–365 天（0 表示每次都回复）"
    return out


def clean_scene(session: Session, data: dict, existing: Optional[LeadScene] = None) -> dict:
    """Clean values for a LeadScene (without secrets), or LeadsError naming every problem."""
    from crm.leads.assign_rules import clean_assignment_rules

    errors: dict[str, str] = {}
    merged = {k: getattr(existing, k) for k in VERSIONED} if existing else {}
    merged.update({k: v for k, v in data.items() if k in VERSIONED or k == "key"})
    name = str(merged.get("name") or "").strip()
    if not name:
        errors["name"] = "场景名称不能为空"
    elif len(name) > 100:
        errors["name"] = "场景名称最多 100 个字符"
    else:
        clash = session.exec(select(LeadScene).where(LeadScene.name == name)).first()
        if clash is not None and (existing is None or clash.id != existing.id):
            errors["name"] = f"场景名称「{name}」已存在"
    scene_type = str(merged.get("scene_type") or "")
    if scene_type not in SCENE_TYPES:
        errors["scene_type"] = f"场景类型「{scene_type}」无效"
    elif existing is not None and scene_type != existing.scene_type:
        errors["scene_type"] = "场景类型创建后不能修改（其事件与接入地址依赖它）"
    key = existing.key if existing else str(merged.get("key") or "").strip()
    if existing is None and key:
        if not KEY_RE.match(key):
            errors["key"] = "场景标识只能包含小写字母、数字和下划线，以字母开头，2–40 个字符"
        elif get_scene_by_key(session, key) is not None:
            errors["key"] = f"场景标识「{key}」已被使用"
    channel_id = merged.get("default_channel_id")
    if channel_id in ("", None):
        channel_id = None
    else:
        try:
            channel_id = int(channel_id)
        except (TypeError, ValueError):
            channel_id = -1
        if session.get(LeadChannel, channel_id) is None:
            errors["default_channel_id"] = f"渠道 {merged.get('default_channel_id')} 不存在"
    dedup = str(merged.get("dedup_strategy") or "BY_PHONE_OR_EMAIL")
    if dedup not in DEDUP_STRATEGIES:
        errors["dedup_strategy"] = f"去重策略「{dedup}」无效"
    try:
        raw_rate = merged.get("rate_limit_per_minute")
        rate = 600 if raw_rate in (None, "") else int(raw_rate)
        if not 1 <= rate <= 100_000:
            raise ValueError
    except (TypeError, ValueError):
        errors["rate_limit_per_minute"] = "每分钟限流应为 1–100000 的整数"
        rate = 600
    params = _json_ok(merged.get("params"), "params", "场景参数", errors, dict)
    if isinstance(params.get("pull"), dict):
        try:
            params["pull"] = clean_pull_params(params["pull"])
        except LeadsError as exc:
            errors.update(exc.errors or {"params.pull": exc.message})
    mapping = clean_mapping(_json_ok(merged.get("mapping_rules"), "mapping_rules", "映射规则", errors, list), errors)
    probe = LeadScene(name=name, scene_type=scene_type, mapping_rules=mapping)
    fields = lead_event_fields(probe)
    tagging = clean_tagging(session, _json_ok(merged.get("tagging_rules"), "tagging_rules", "打标签规则", errors, list),
                            fields, errors)
    assignment_raw = _json_ok(merged.get("assignment_rules"), "assignment_rules", "分配规则", errors, dict)
    assignment = {}
    if "assignment_rules" not in errors:
        try:
            assignment = clean_assignment_rules(session, assignment_raw, fields)
        except LeadsError as exc:
            errors.update(exc.errors or {"assignment_rules": exc.message})
    response = clean_response(session, _json_ok(merged.get("auto_response"), "auto_response", "自动回复", errors, dict), errors)
    enabled = merged.get("is_enabled", True)
    if errors:
        raise LeadsError("场景配置有误，请按提示修改", errors)
    return {"name": name, "key": key, "scene_type": scene_type,
            "is_enabled": enabled if isinstance(enabled, bool) else str(enabled).lower() in ("1", "true", "on", "yes"),
            "default_channel_id": channel_id, "params": params, "mapping_rules": mapping, "tagging_rules": tagging,
            "assignment_rules": assignment, "auto_response": response, "dedup_strategy": dedup,
            "rate_limit_per_minute": rate}


# -- secrets, versions, views -----------------------------------------------------------------
def open_secret(box, scene: LeadScene) -> str:
    return box.open(scene.secret_sealed) if scene.secret_sealed else ""


def open_credentials(box, scene: LeadScene) -> dict:
    if not scene.credentials_sealed:
        return {}
    try:
        value = json.loads(box.open(scene.credentials_sealed))
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def snapshot(scene: LeadScene) -> dict:
    out = {k: getattr(scene, k) for k in VERSIONED}
    out["credentials"] = "已设置" if scene.credentials_sealed else ""
    return out


def record_version(session: Session, scene: LeadScene, before: Optional[dict], author: str) -> Optional[LeadSceneVersion]:
    after = snapshot(scene)
    diff = [{"field": k, "before": (before or {}).get(k), "after": after[k]}
            for k in after if before is None or before.get(k) != after[k]]
    if before is not None and not diff:
        return None
    row = LeadSceneVersion(scene_id=scene.id, version=scene.version, snapshot=after, diff=diff, author=author[:64])
    session.add(row)
    return row


def list_versions(session: Session, scene_id: int) -> list[LeadSceneVersion]:
    return list(session.exec(select(LeadSceneVersion).where(LeadSceneVersion.scene_id == scene_id)
                             .order_by(LeadSceneVersion.version.desc())))


def webhook_paths(scene: LeadScene) -> list[str]:
    """Where platforms post this scene's leads (one per adapter serving its type)."""
    from crm.leads.adapters import adapters_for  # adapters import intake, which imports this module

    return [f"/webhooks/{a.key}?scene={scene.key}" for a in adapters_for(scene.scene_type)]


def webhook_path(scene: LeadScene) -> str:
    paths = webhook_paths(scene)
    return paths[0] if paths else ""


def scene_dict(scene: LeadScene) -> dict:
    """The API shape of a scene: configuration without secrets (only whether they are set)."""
    return {"scene_config_id": scene.id, "scene_name": scene.name, "scene_key": scene.key,
            "scene_type": scene.scene_type, "scene_type_label": SCENE_TYPES.get(scene.scene_type, scene.scene_type),
            "is_enabled": scene.is_enabled, "source_channel_default_id": scene.default_channel_id,
            "scene_specific_params": scene.params, "data_mapping_rules": scene.mapping_rules,
            "auto_tagging_rules": scene.tagging_rules, "assignment_rules": scene.assignment_rules,
            "auto_response_config": scene.auto_response, "deduplication_strategy": scene.dedup_strategy,
            "rate_limit_per_minute": scene.rate_limit_per_minute, "event_code": scene.event_code,
            "strategy_id": scene.strategy_id, "webhook_path": webhook_path(scene),
            "webhook_paths": webhook_paths(scene),
            "has_secret": bool(scene.secret_sealed), "has_credentials": bool(scene.credentials_sealed),
            "version": scene.version, "created_at": scene.created_at.isoformat(),
            "updated_at": scene.updated_at.isoformat()}
