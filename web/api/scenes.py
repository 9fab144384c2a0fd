"""/api/v1/scenes/configurations and /api/v1/channels: 获客场景配置 and 渠道 over the API.

Field names follow the lead acquisition guide (scene_name, data_mapping_rules, auto_tagging_rules,
deduplication_strategy …), the same in what is sent and what is answered. A scene's webhook
signing secret is answered once, when the scene is created or its secret rotated; afterwards the
API only says whether one is set.
"""
from __future__ import annotations

import re

from flask import Blueprint, g, request

from crm.errors import CrmError
from crm.leads import channels as channel_service
from crm.leads.errors import LeadsError
from crm.leads.models import CHANNEL_TYPES, DEDUP_STRATEGIES, SCENE_TYPES, LeadScene
from crm.leads.scenes import get_scene, list_scenes, scene_dict
from engine.lead_scenes import delete_scene, rotate_secret, save_scene
from web.api.common import BadRequest, error_response, iso, json_body, ok, write_and_reload
from web.api.examples import scenes as ex
from web.api.spec import ANY_OBJ, BOOL, INT, OBJ_LIST, STR, api_route, obj
from web.auth.guards import api_auth
from web.extensions import runtime, services

bp = Blueprint("api_scenes", __name__, url_prefix="/api/v1")
bp.register_error_handler(CrmError, error_response)

# API (guide) name → the scene model's field name; names that are the same map to themselves.
FIELDS = {"scene_name": "name", "scene_key": "key", "scene_type": "scene_type", "is_enabled": "is_enabled",
          "source_channel_default_id": "default_channel_id", "scene_specific_params": "params",
          "data_mapping_rules": "mapping_rules", "auto_tagging_rules": "tagging_rules",
          "assignment_rules": "assignment_rules", "auto_response_config": "auto_response",
          "deduplication_strategy": "dedup_strategy", "rate_limit_per_minute": "rate_limit_per_minute",
          "credentials": "credentials"}
MODEL_NAMES = {model: api for api, model in FIELDS.items()}
_HEAD = re.compile(r"[A-Za-z_]*")
SCENE_IN = {**obj({"scene_name": STR, "scene_key": STR, "scene_type": {"type": "string", "enum": list(SCENE_TYPES)},
                   "is_enabled": BOOL, "source_channel_default_id": INT, "scene_specific_params": ANY_OBJ,
                   "data_mapping_rules": OBJ_LIST, "auto_tagging_rules": OBJ_LIST, "assignment_rules": ANY_OBJ,
                   "auto_response_config": ANY_OBJ,
                   "deduplication_strategy": {"type": "string", "enum": list(DEDUP_STRATEGIES)},
                   "rate_limit_per_minute": INT, "credentials": ANY_OBJ}), "additionalProperties": True}
SCENE_OUT = {"type": "object", "additionalProperties": True}
CREATED = {"type": "object", "additionalProperties": True, "description": "场景配置 + webhook_secret（仅此一次）"}
CHANNEL_IN = obj({"name": STR, "channel_type": {"type": "string", "enum": list(CHANNEL_TYPES)}, "code": STR,
                  "is_active": BOOL, "remark": STR}, ("name",))
CHANNEL_OUT = obj({"channel_id": INT, "name": STR, "channel_type": STR, "channel_type_label": STR, "code": STR,
                   "is_active": BOOL, "remark": STR, "created_at": STR, "updated_at": STR})


def scene_data(body: dict) -> dict:
    """The body in the scene model's names; an unknown field is refused rather than ignored."""
    # What GET answers besides the settings (ids, labels, version …) is read-only: a client that
    # sends a scene back unchanged must not be refused for it.
    read_only = set(scene_dict(LeadScene(name="", key="", scene_type="WEB_FORM")))
    unknown = sorted(k for k in body if k not in FIELDS and k not in read_only)
    if unknown:
        raise BadRequest(f"未知字段：{'、'.join(unknown)}", {k: "未知字段" for k in unknown}, status=422, code="invalid")
    if "is_enabled" in body and not isinstance(body["is_enabled"], bool):
        raise BadRequest("is_enabled 应为 true 或 false", {"is_enabled": "is_enabled 应为 true 或 false"}, status=422, code="invalid")
    if "credentials" in body and not isinstance(body["credentials"], dict):
        raise BadRequest("credentials 应为 JSON 对象", {"credentials": "credentials 应为 JSON 对象"}, status=422, code="invalid")
    return {FIELDS[k]: v for k, v in body.items() if k in FIELDS}


def api_names(errors: dict) -> dict:
    """Field errors keyed by the names the caller sent ("data_mapping_rules[0].target", not "mapping_rules…")."""
    out = {}
    for key, message in errors.items():
        head = _HEAD.match(key).group(0)
        out[MODEL_NAMES.get(head, head) + key[len(head):]] = message
    return out


def _save(scene_id=None) -> tuple[dict, str | None]:
    """Saves in one transaction (scene, its event, its strategy, a version), then reloads the engine."""
    body, svc, rt = json_body(), services(), runtime()
    if scene_id is not None:
        with svc.db.read() as session:
            get_scene(session, scene_id)  # a readable body for an unknown id is a 404
    data = scene_data(body)

    def work(session):
        scene, secret = save_scene(session, data, registry=rt.registry, box=svc.secret_box,
                                   author=g.user.username, scene_id=scene_id)
        return scene_dict(scene), secret

    try:
        return write_and_reload(work)
    except LeadsError as exc:
        raise LeadsError(exc.message, api_names(exc.errors)) from None


@api_route(bp, "/scenes/configurations", "GET", "获客场景配置列表", "获客场景配置", permission="leads.view",
           query=[("scene_type", "string", "场景类型：" + "/".join(SCENE_TYPES))],
           responses={"200": obj({"items": {"type": "array", "items": SCENE_OUT}})},
           operation_id="listSceneConfigurations", examples=ex.LIST_SCENE_CONFIGURATIONS)
@api_auth("leads.view")
def list_scene_configurations():
    scene_type = request.args.get("scene_type") or None
    if scene_type is not None and scene_type not in SCENE_TYPES:
        raise BadRequest(f"场景类型「{scene_type}」无效，可选：{'、'.join(SCENE_TYPES)}", {"scene_type": "场景类型无效"})
    with services().db.read() as session:
        return ok({"items": [scene_dict(s) for s in list_scenes(session, scene_type)]})


@api_route(bp, "/scenes/configurations", "POST", "新建获客场景（答复中的 webhook_secret 只出现这一次）", "获客场景配置",
           body=SCENE_IN, permission="scenes.manage", responses={"201": CREATED},
           operation_id="createSceneConfiguration", examples=ex.CREATE_SCENE_CONFIGURATION)
@api_auth("scenes.manage")
def create_scene_configuration():
    scene, secret = _save()
    return ok({**scene, "webhook_secret": secret}, 201)


@api_route(bp, "/scenes/configurations/<int:scene_config_id>", "GET", "获客场景配置详情", "获客场景配置",
           permission="leads.view", responses={"200": SCENE_OUT},
           operation_id="getSceneConfiguration", examples=ex.GET_SCENE_CONFIGURATION)
@api_auth("leads.view")
def get_scene_configuration(scene_config_id):
    with services().db.read() as session:
        return ok(scene_dict(get_scene(session, scene_config_id)))


@api_route(bp, "/scenes/configurations/<int:scene_config_id>", "PUT", "修改获客场景（只改提交的字段，每次修改生成新版本）",
           "获客场景配置", body=SCENE_IN, permission="scenes.manage", responses={"200": SCENE_OUT},
           operation_id="updateSceneConfiguration", examples=ex.UPDATE_SCENE_CONFIGURATION)
@api_auth("scenes.manage")
def update_scene_configuration(scene_config_id):
    return ok(_save(scene_config_id)[0])


@api_route(bp, "/scenes/configurations/<int:scene_config_id>", "DELETE", "删除获客场景", "获客场景配置",
           permission="scenes.manage", responses={"200": obj({"deleted": INT})},
           operation_id="deleteSceneConfiguration", examples=ex.DELETE_SCENE_CONFIGURATION)
@api_auth("scenes.manage")
def delete_scene_configuration(scene_config_id):
    write_and_reload(lambda s: delete_scene(s, scene_config_id))
    return ok({"deleted": scene_config_id})


@api_route(bp, "/scenes/configurations/<int:scene_config_id>/secret", "POST",
           "重新生成场景的 webhook 签名密钥（新密钥只出现这一次，旧密钥立即失效）", "获客场景配置",
           permission="scenes.manage", responses={"200": obj({"scene_config_id": INT, "webhook_secret": STR})},
           operation_id="rotateSceneSecret", examples=ex.ROTATE_SCENE_SECRET)
@api_auth("scenes.manage")
def rotate_scene_secret(scene_config_id):
    svc = services()
    with svc.db.write() as session:
        secret = rotate_secret(session, svc.secret_box, scene_config_id)
    return ok({"scene_config_id": scene_config_id, "webhook_secret": secret})


def channel_dict(c) -> dict:
    return {"channel_id": c.id, "name": c.name, "channel_type": c.channel_type,
            "channel_type_label": CHANNEL_TYPES.get(c.channel_type, c.channel_type), "code": c.code,
            "is_active": c.is_active, "remark": c.remark, "created_at": iso(c.created_at), "updated_at": iso(c.updated_at)}


@api_route(bp, "/channels", "GET", "渠道列表", "渠道管理", permission="leads.view",
           query=[("active_only", "boolean", "只看启用的渠道")],
           responses={"200": obj({"items": {"type": "array", "items": CHANNEL_OUT}})},
           operation_id="listLeadChannels", examples=ex.LIST_LEAD_CHANNELS)
@api_auth("leads.view")
def list_lead_channels():
    active_only = request.args.get("active_only") in ("1", "true")
    with services().db.read() as session:
        return ok({"items": [channel_dict(c) for c in channel_service.list_channels(session, active_only)]})


@api_route(bp, "/channels", "POST", "新建渠道", "渠道管理", body=CHANNEL_IN, permission="scenes.manage",
           responses={"201": CHANNEL_OUT},
           operation_id="createLeadChannel", examples=ex.CREATE_LEAD_CHANNEL)
@api_auth("scenes.manage")
def create_lead_channel():
    data = _channel_body()
    with services().db.write() as session:
        return ok(channel_dict(channel_service.create_channel(session, data)), 201)


def _channel_body() -> dict:
    data = json_body()
    for name in ("name", "code", "remark", "channel_type"):
        if data.get(name) is not None and not isinstance(data[name], str):
            raise BadRequest(f"{name} 应为字符串", {name: f"{name} 应为字符串"}, status=422, code="invalid")
    if "is_active" in data and not isinstance(data["is_active"], bool):
        raise BadRequest("is_active 应为 true 或 false", {"is_active": "is_active 应为布尔值"}, status=422, code="invalid")
    return data


@api_route(bp, "/channels/<int:channel_id>", "GET", "渠道详情", "渠道管理", permission="leads.view",
           responses={"200": CHANNEL_OUT},
           operation_id="getLeadChannel", examples=ex.GET_LEAD_CHANNEL)
@api_auth("leads.view")
def get_lead_channel(channel_id):
    with services().db.read() as session:
        return ok(channel_dict(channel_service.get_channel(session, channel_id)))


@api_route(bp, "/channels/<int:channel_id>", "PUT", "修改渠道（只改提交的字段；停用用 is_active=false）", "渠道管理",
           body=obj({"name": STR, "channel_type": {"type": "string", "enum": list(CHANNEL_TYPES)}, "code": STR,
                     "is_active": BOOL, "remark": STR}), permission="scenes.manage", responses={"200": CHANNEL_OUT},
           operation_id="updateLeadChannel", examples=ex.UPDATE_LEAD_CHANNEL)
@api_auth("scenes.manage")
def update_lead_channel(channel_id):
    data = _channel_body()
    with services().db.write() as session:
        current = channel_dict(channel_service.get_channel(session, channel_id))
        merged = {k: current[k] for k in ("name", "channel_type", "code", "is_active", "remark")}
        merged.update({k: v for k, v in data.items() if k in merged})
        return ok(channel_dict(channel_service.update_channel(session, channel_id, merged)))


@api_route(bp, "/channels/<int:channel_id>", "DELETE", "删除渠道（已有线索的渠道不能删除，可改为停用）", "渠道管理",
           permission="scenes.manage", responses={"200": obj({"deleted": INT})},
           operation_id="deleteLeadChannel", examples=ex.DELETE_LEAD_CHANNEL)
@api_auth("scenes.manage")
def delete_lead_channel(channel_id):
    with services().db.write() as session:
        channel_service.delete_channel(session, channel_id)
    return ok({"deleted": channel_id})
